/**
 * Tool-loop benchmark: the overhead the chat worker's loop adds per tool step, at N concurrent
 * answers. Each answer makes `--steps` rounds of one `current_time` call (a built-in tool that
 * answers in microseconds), then a short answer. Per step it reports, from the Groq stub's side,
 * **model turn with tool calls sent → next Groq request arrived**: the worker reading the end of
 * the stream, running the tool, publishing its two chat:tool events, and sending the next request
 * (groq-sdk, HTTP). That is the loop's overhead plus a tool that costs nothing. Prints p50/p95/max
 * per N; asserts nothing.
 *
 *   node bench/tools.ts [--streams 1,50] [--steps 3] [--rounds 3] [--jitter-ms 40]
 *
 * The chat worker and the edge run as child processes, as in production; the stub runs here, so
 * both stamps of a sample come from this process's clock. `--jitter-ms`: each model call's time to
 * first token is drawn from 0..jitter, so N answers drift apart as independent ones do (0 keeps
 * them in lock-step). Talks to 127.0.0.1 only: a throwaway database, a private queue prefix.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { ApiClient } from '../test/support/ApiClient.ts';
import { ChildService } from '../test/support/ChildService.ts';
import { type ChatRequestBody, GroqStub } from '../test/support/GroqStub.ts';
import {
  createTestDatabase,
  dropTestDatabases,
  TEST_JWT_SECRET,
  TEST_REDIS_URL,
  uniqueQueuePrefix,
} from '../test/support/services.ts';
import { fixed, percentile, sorted, table } from './support/stats.ts';

const { values: flags } = parseArgs({
  options: {
    streams: { type: 'string', default: '1,50' },
    steps: { type: 'string', default: '3' },
    rounds: { type: 'string', default: '3' },
    'jitter-ms': { type: 'string', default: '40' },
  },
});
const streams = flags.streams.split(',').map(Number);
const steps = Number(flags.steps);
const rounds = Number(flags.rounds);
const jitterMs = Number(flags['jitter-ms']);

const out = (text = '') => process.stdout.write(`${text}\n`);
const toolResults = (body: ChatRequestBody) => body.messages.filter((message) => message.role === 'tool');
/** Which answer a request belongs to: its question is unique per answer. */
const answerKey = (body: ChatRequestBody) =>
  String(body.messages.findLast((m) => m.role === 'user')?.content);

const stub = await GroqStub.start({ ttftMs: 1, tokensPerSecond: 0, answerTokens: 3 });
stub.configure({
  turn: (body) =>
    body.tools?.length && toolResults(body).length < steps
      ? { toolCalls: [{ name: 'current_time', arguments: { timeZone: 'Europe/Lisbon' } }] }
      : { text: ['done', '.'] },
});
/** When each answer's last tool-calling turn was sent, by answer. */
const turnSentAt = new Map<string, number>();
const gaps: number[] = [];
let finals = 0;
let onFinal: () => void = () => {};
stub.on('request', (record) => {
  const now = performance.now();
  // Applies to this request: the stub copies its options right after announcing it.
  stub.configure({ ttftMs: Math.round(Math.random() * jitterMs) });
  if (record.body.stream !== true) return;
  const key = answerKey(record.body);
  const sent = turnSentAt.get(key);
  if (sent !== undefined && toolResults(record.body).length > 0) gaps.push(now - sent);
  turnSentAt.delete(key);
  if (toolResults(record.body).length >= steps) {
    finals += 1;
    onFinal();
  }
});
stub.on('completed', (record) => {
  if (record.body.stream === true && record.body.tools?.length && toolResults(record.body).length < steps)
    turnSentAt.set(answerKey(record.body), performance.now());
});

const env = {
  DATABASE_URL: await createTestDatabase('bench_tools'),
  REDIS_URL: TEST_REDIS_URL,
  QUEUE_PREFIX: uniqueQueuePrefix('bench_tools'),
  JWT_SECRET: TEST_JWT_SECRET,
  RATE_LIMIT_MESSAGES: '100000/1m',
};
const worker = await ChildService.start(
  'workers/index.ts',
  {
    ...env,
    WORKER_QUEUES: 'chat,maintenance',
    GROQ_API_KEY: 'bench-key',
    GROQ_BASE_URL: stub.baseURL,
    CHAT_CONCURRENCY: '100',
  },
  'workers started',
);
const { edge, url } = await ChildService.startEdge(env);
try {
  const api = new ApiClient(url);
  const user = await api.signup('bench');
  const rows: string[][] = [];
  for (const n of streams) {
    const conversations: string[] = [];
    for (let index = 0; index < n; index++) {
      const created = await api.request('POST', '/api/v1/conversations', {
        token: user.accessToken,
        body: { title: `bench ${index}` },
      });
      conversations.push(created.body.id);
    }
    const samples: number[] = [];
    for (let round = 0; round <= rounds; round++) {
      gaps.length = 0;
      finals = 0;
      const allFinal = new Promise<void>((resolve) => {
        onFinal = () => finals >= n && resolve();
      });
      await Promise.all(
        conversations.map((id, index) =>
          api.request('POST', `/api/v1/conversations/${id}/messages`, {
            token: user.accessToken,
            body: { content: `question ${n}.${round}.${index}` },
          }),
        ),
      );
      await allFinal;
      // Round 0 warms up (JIT, connections, prepared statements): not counted.
      if (round > 0) samples.push(...gaps);
      // The answers' endings and follow-up jobs settle before the next burst.
      await sleep(500);
    }
    const values = sorted(samples);
    rows.push([
      String(n),
      String(values.length),
      fixed(percentile(values, 50), 2),
      fixed(percentile(values, 95), 2),
      fixed(values[values.length - 1] ?? Number.NaN, 2),
    ]);
  }
  out(
    `\nmodel turn with tool calls sent → next Groq request arrived (worker in its own process), ${steps} steps per answer, ${rounds} rounds, model TTFT 0–${jitterMs} ms`,
  );
  out(table(['N concurrent', 'samples', 'p50 ms', 'p95 ms', 'max ms'], rows, 1));
  out('target: p95 < 10 ms at N=50');
} finally {
  await Promise.all([edge.stop(), worker.stop()]);
  await stub.close();
  await dropTestDatabases();
}
