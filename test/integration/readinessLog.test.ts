import { expect } from 'chai';
import { startInProcessEdge, type TestEdge } from '../support/inProcessEdge.ts';
import { capturingLogger } from '../support/logCapture.ts';
import { createTestDatabase, TEST_REDIS_URL, uniqueQueuePrefix } from '../support/services.ts';
import { TcpProxy } from '../support/TcpProxy.ts';

/**
 * A load balancer polls /health/ready every few seconds: while the edge is not ready each poll
 * answers 503, but the log gets one warn line when readiness is lost and one when it is back —
 * never an error line per poll. Redis is taken from this edge alone through a TCP proxy.
 */
describe('readiness in the log: changes once, at warn, not every poll', function () {
  this.timeout(60_000);
  let proxy: TcpProxy;
  let edge: TestEdge;
  const logs = capturingLogger();
  const parsed = () => logs.lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  const poll = async () => (await fetch(`${edge.url}/health/ready`)).status;
  /** Polls until readiness answers `status` (a deadline, not a sleep: the edge decides when). */
  const pollUntil = async (status: number) => {
    const deadline = Date.now() + 30_000;
    while ((await poll()) !== status)
      if (Date.now() > deadline) throw new Error(`/health/ready never answered ${status}`);
  };

  before(async () => {
    const target = new URL(TEST_REDIS_URL);
    proxy = await TcpProxy.start(target.hostname, Number(target.port || 6379));
    edge = await startInProcessEdge(
      {
        DATABASE_URL: await createTestDatabase('readiness_log'),
        REDIS_URL: proxy.rewrite(TEST_REDIS_URL),
        QUEUE_PREFIX: uniqueQueuePrefix('readiness-log'),
      },
      { logger: logs.logger },
    );
  });
  after(async () => {
    proxy?.restore();
    await edge?.stop();
    await proxy?.close();
  });

  it('logs "not ready" once while polls keep answering 503, then "ready again" once', async () => {
    // Just started, Redis may still be connecting: what counts is what follows readiness.
    await pollUntil(200);
    const before = logs.lines.length;
    proxy.sever();
    await pollUntil(503);
    for (let i = 0; i < 5; i++) expect(await poll()).to.equal(503);
    proxy.restore();
    await pollUntil(200);
    for (let i = 0; i < 3; i++) expect(await poll()).to.equal(200);

    const lines = parsed().slice(before);
    const readinessLines = lines.filter((line) => line.readiness !== undefined);
    expect(readinessLines.map((line) => [line.level, line.msg, line.readiness])).to.deep.equal([
      [40, 'not ready', 'unavailable'],
      [40, 'ready again', 'ready'],
    ]);
    expect(readinessLines[0]!.failing).to.include('redis');
    // No request line of readiness at error level (pino: 50), however many polls failed.
    const errorPolls = lines.filter((line) => line.level === 50 && line.path === '/health/ready');
    expect(errorPolls).to.deep.equal([]);
  });
});
