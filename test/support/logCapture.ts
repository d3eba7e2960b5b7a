import { Writable } from 'node:stream';
import { type Logger, pino } from 'pino';

/**
 * A logger that keeps every line it writes (at `trace`, so nothing is filtered out), for tests
 * that check what reaches the logs: `lines` are the raw JSON lines as a log shipper would see them.
 */
export function capturingLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { logger: pino({ level: 'trace' }, sink), lines };
}
