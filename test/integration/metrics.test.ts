import { expect } from 'chai';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { ApiClient } from '../support/ApiClient.ts';
import { ChatClient } from '../support/ChatClient.ts';
import { type ChatStack, startChatStack } from '../support/chatStack.ts';
import type { TestEdge } from '../support/inProcessEdge.ts';
import { jobFinished } from '../support/jobOutcome.ts';

const METRICS_TOKEN = 'metrics-token-for-tests';

interface Family {
  name: string;
  type: string;
  metrics: {
    labels?: Record<string, string>;
    value?: string;
    count?: string;
    buckets?: Record<string, string>;
  }[];
}

describe('metrics at /metrics', function () {
  this.timeout(30_000);
  let edge: TestEdge;
  let stack: ChatStack;

  before(async () => {
    stack = await startChatStack(
      'metrics',
      { ttftMs: 5, tokensPerSecond: 2_000, answerTokens: 10 },
      { METRICS_TOKEN },
    );
    ({ edge } = stack);
  });
  after(() => stack?.stop());

  interface Scrape {
    families: Map<string, Family>;
    text: string;
  }

  /** Scrapes; the text must parse as Prometheus exposition (the parser throws otherwise). */
  const scrape = async (): Promise<Scrape> => {
    const response = await fetch(`${edge.url}/metrics`, {
      headers: { authorization: `Bearer ${METRICS_TOKEN}` },
    });
    expect(response.status).to.equal(200);
    expect(response.headers.get('content-type')).to.match(/^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    const families = parsePrometheusTextFormat(text) as Family[];
    return { families: new Map(families.map((family) => [family.name, family])), text };
  };
  /** Sum of the samples `name{…labels…} value` whose labels include `labels` (read from the text). */
  const sample = ({ text }: Scrape, name: string, labels: Record<string, string> = {}) =>
    text
      .split('\n')
      .filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `))
      .filter((line) => Object.entries(labels).every(([key, value]) => line.includes(`${key}="${value}"`)))
      .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
  const histogramCount = (scraped: Scrape, name: string, labels: Record<string, string> = {}) =>
    sample(scraped, `${name}_count`, labels);
  const gauge = sample;

  it('asks for the token when one is configured', async () => {
    expect((await fetch(`${edge.url}/metrics`)).status).to.equal(401);
    expect(
      (await fetch(`${edge.url}/metrics`, { headers: { authorization: 'Bearer wrong' } })).status,
    ).to.equal(401);
  });

  it('parses as Prometheus exposition and moves after a chat', async () => {
    const before = await scrape();
    for (const name of [
      'parley_http_request_duration_seconds',
      'parley_active_sockets',
      'parley_queue_jobs',
      'parley_process_cpu_user_seconds_total',
      'parley_nodejs_eventloop_lag_seconds',
    ]) {
      expect(before.families.has(name), name).to.equal(true);
    }

    const api = new ApiClient(edge.url);
    const session = await api.signup('metrics');
    const client = await ChatClient.connect(edge.url, session.accessToken);
    try {
      const turn = await client.send({ content: 'count me' });
      await client.untilEnded(turn.assistantMessageId);
      await jobFinished(edge.runtime, 'chat', turn.assistantMessageId);
      const after = await scrape();
      expect(gauge(after, 'parley_active_sockets')).to.equal(1);
      expect(
        histogramCount(after, 'parley_http_request_duration_seconds', {
          route: '/api/v1/auth/signup',
          status: '201',
        }),
      ).to.equal(
        histogramCount(before, 'parley_http_request_duration_seconds', {
          route: '/api/v1/auth/signup',
          status: '201',
        }) + 1,
      );
      expect(histogramCount(after, 'parley_chat_time_to_first_token_seconds')).to.equal(
        histogramCount(before, 'parley_chat_time_to_first_token_seconds') + 1,
      );
      expect(histogramCount(after, 'parley_chat_tokens_per_second')).to.be.greaterThan(
        histogramCount(before, 'parley_chat_tokens_per_second'),
      );
      expect(
        histogramCount(after, 'parley_job_duration_seconds', {
          queue: 'chat',
          job: 'generate-reply',
          outcome: 'completed',
        }),
      ).to.be.at.least(1);
      expect(
        Number.isFinite(gauge(after, 'parley_queue_jobs', { queue: 'chat', state: 'waiting' })),
      ).to.equal(true);
    } finally {
      client.close();
    }
  });

  it('moves after an upload: ingestion chunks/s, the ingest job, the upload route', async () => {
    const api = new ApiClient(edge.url);
    const session = await api.signup('metrics-upload');
    const client = await ChatClient.connect(edge.url, session.accessToken);
    try {
      const before = await scrape();
      const text = Array.from({ length: 30 }, (_, index) => `Sentence ${index} about metered uploads.`).join(
        ' ',
      );
      const upload = await api.upload(session.accessToken, 'metered.txt', text);
      expect(upload.status).to.equal(202);
      const events = await client.untilDocumentSettles(upload.body.id);
      expect(events.at(-1)!.status).to.equal('ready');
      await jobFinished(edge.runtime, 'ingest', upload.body.id);
      const after = await scrape();
      expect(histogramCount(after, 'parley_ingest_chunks_per_second')).to.equal(
        histogramCount(before, 'parley_ingest_chunks_per_second') + 1,
      );
      const ingestJobs = { queue: 'ingest', job: 'ingest-document', outcome: 'completed' };
      expect(histogramCount(after, 'parley_job_duration_seconds', ingestJobs)).to.equal(
        histogramCount(before, 'parley_job_duration_seconds', ingestJobs) + 1,
      );
      const uploads = { route: '/api/v1/documents', status: '202' };
      expect(histogramCount(after, 'parley_http_request_duration_seconds', uploads)).to.equal(
        histogramCount(before, 'parley_http_request_duration_seconds', uploads) + 1,
      );
    } finally {
      client.close();
    }
  });

  it('counts what a maintenance run removed', async () => {
    const admin = edge.runtime.queues;
    const job = await admin.add('maintenance', 'maintenance-run', { trigger: 'admin' });
    await jobFinished(edge.runtime, 'maintenance', job);
    const { families } = await scrape();
    const kinds = families
      .get('parley_maintenance_removed_total')
      ?.metrics.map((metric) => metric.labels?.kind);
    expect(kinds).to.include.members(['conversations', 'refreshTokens', 'stuckMessages']);
  });
});
