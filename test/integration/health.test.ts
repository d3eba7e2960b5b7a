import { expect } from 'chai';
import type { ReadinessReport } from '../../src/health/Readiness.ts';
import type { ProblemBody } from '../../src/http/problem.ts';
import { OFFLINE_OPERATOR_NOTE } from '../../src/llm/OfflineProvider.ts';
import { startInProcessEdge, type TestEdge } from '../support/inProcessEdge.ts';
import { PrivateRedis } from '../support/privateRedis.ts';
import { createTestDatabase, uniqueQueuePrefix } from '../support/services.ts';

describe('edge health and HTTP basics', () => {
  let redis: PrivateRedis;
  let edge: TestEdge;

  before(async () => {
    redis = await PrivateRedis.start();
    edge = await startInProcessEdge({
      DATABASE_URL: await createTestDatabase('health'),
      REDIS_URL: redis.url,
      QUEUE_PREFIX: uniqueQueuePrefix('health'),
      ADMIN_EMAIL: 'root@example.com',
      ADMIN_PASSWORD: 'correct horse battery staple',
    });
  });
  after(async () => {
    await edge?.stop();
    await redis?.stop();
  });

  it('answers every unknown route with problem+json and a request id', async () => {
    const response = await fetch(`${edge.url}/api/v1/nothing-here`);
    expect(response.status).to.equal(404);
    expect(response.headers.get('content-type')).to.match(/^application\/problem\+json/);
    const body = (await response.json()) as ProblemBody;
    expect(body).to.include({ status: 404, code: 'not_found', title: 'Not Found' });
    expect(body.requestId).to.equal(response.headers.get('x-request-id'));
  });

  it('opens Bull Board to an administrator only', async () => {
    const anonymous = await fetch(`${edge.url}/admin/queues`);
    expect(anonymous.status).to.equal(401);
    expect(anonymous.headers.get('www-authenticate')).to.match(/^Basic/);
    const wrong = await fetch(`${edge.url}/admin/queues`, {
      headers: { authorization: `Basic ${Buffer.from('root@example.com:guess').toString('base64')}` },
    });
    expect(wrong.status).to.equal(401);
    const admin = await fetch(`${edge.url}/admin/queues`, {
      headers: {
        authorization: `Basic ${Buffer.from('root@example.com:correct horse battery staple').toString('base64')}`,
      },
    });
    expect(admin.status).to.equal(200);
    expect(await admin.text()).to.match(/<html/i);
  });

  it('is ready with Postgres, pgvector, Redis and the queues all checked', async () => {
    const response = await fetch(`${edge.url}/health/ready`);
    const report = (await response.json()) as ReadinessReport;
    expect(response.status, JSON.stringify(report)).to.equal(200);
    expect(report.status).to.equal('ready');
    expect(Object.keys(report.checks)).to.have.members([
      'postgres',
      'pgvector',
      'redis',
      'queues',
      'embedder',
      'llm',
    ]);
    expect(report.checks.embedder).to.deep.include({
      status: 'ok',
      details: { model: 'tiny-bert-embed', dimensions: 384 },
    });
    // No GROQ_API_KEY here: the offline provider, which is always fine.
    expect(report.checks.llm).to.deep.include({ status: 'ok' });
    // The operator learns why answers are placeholders here (the user's notice says no setting).
    expect(report.checks.llm!.details).to.include({ provider: 'offline', note: OFFLINE_OPERATOR_NOTE });
    expect(OFFLINE_OPERATOR_NOTE).to.include('GROQ_API_KEY');
    expect(report.checks.queues!.details).to.have.keys('chat', 'ingest', 'maintenance');
  });

  it('is not ready, naming the embedder and how to fix it, when the embedding model cannot be loaded', async () => {
    const withoutModel = await startInProcessEdge({
      DATABASE_URL: await createTestDatabase('health_model'),
      REDIS_URL: redis.url,
      QUEUE_PREFIX: uniqueQueuePrefix('health-model'),
      EMBEDDING_MODEL: 'no-such-model',
    });
    try {
      // The rest of the API still starts and answers.
      expect((await fetch(`${withoutModel.url}/health`)).status).to.equal(200);
      const response = await fetch(`${withoutModel.url}/health/ready`);
      const report = (await response.json()) as ReadinessReport;
      expect(response.status).to.equal(503);
      // (Redis may still be connecting this soon after start; the embedder fails regardless.)
      expect(report.failing).to.include('embedder').and.not.include('postgres');
      expect(report.checks.embedder!.error).to.include('no-such-model').and.include('MODELS_DIR');
      // The whole explanation, down to the fix at its end (it used to be cut at 200 characters).
      expect(report.checks.embedder!.error).to.include('npm run models:pull');
    } finally {
      await withoutModel.stop();
    }
  });

  it('turns 503 and names Redis once Redis is gone, while liveness stays 200', async () => {
    await redis.stop();
    const response = await fetch(`${edge.url}/health/ready`);
    const report = (await response.json()) as ReadinessReport;
    expect(response.status).to.equal(503);
    expect(report.status).to.equal('unavailable');
    expect(report.failing).to.include('redis');
    expect(report.failing).not.to.include('postgres');
    expect(report.checks.redis!.error)
      .to.be.a('string')
      .and.not.match(/redis:\/\//);
    expect((await fetch(`${edge.url}/health`)).status).to.equal(200);
  });
});
