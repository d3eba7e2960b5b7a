import type { Logger } from '../logger.ts';
import type { ReadinessReport } from './Readiness.ts';

/**
 * A load balancer polls /health/ready every few seconds; an outage must not write a line per
 * poll. This logs only the changes — ready to not ready (with what fails and why) and back —
 * once each, at warn; the 503 answers themselves are not request failures (requestLogger leaves
 * them out). Which checks fail may shift during an outage (Redis, then the queues on it): that is
 * the same outage, not another line. The process starts as ready, so a first report that is not
 * ready is a change. One per edge.
 */
export class ReadinessTransitions {
  private readonly logger: Logger;
  private ready = true;

  constructor(logger: Logger) {
    this.logger = logger;
  }

  /** Logs the report's state when it differs from the last one's. */
  observe(report: ReadinessReport): void {
    const ready = report.status === 'ready';
    if (ready === this.ready) return;
    this.ready = ready;
    if (ready) {
      this.logger.warn({ readiness: 'ready' }, 'ready again');
      return;
    }
    const errors = Object.fromEntries(
      report.failing.map((name) => [name, report.checks[name]?.error ?? 'failed']),
    );
    this.logger.warn({ readiness: 'unavailable', failing: report.failing, errors }, 'not ready');
  }
}
