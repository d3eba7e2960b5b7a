/**
 * Tool-loop benchmark: the overhead the chat worker's loop adds per tool step — from the moment a
 * tool's result is ready to the moment the next Groq request arrives at the stub — at N concurrent
 * answers. Each answer makes `--steps` tool calls (one per step) of a tool that answers at once,
 * then a short final answer. Prints p50/p95/max per N; asserts nothing.
 *
 *   node bench/tools.ts [--streams 1,50] [--steps 3] [--rounds 3] [--jitter-ms 40]
 *
 * Everything runs in this process (edge, chat/ingest/maintenance workers, the Groq stub), so both
 * timestamps come from one monotonic clock (performance.now()); the figure includes what the loop
 * does (append results, build the next request), groq-sdk, the local HTTP hop to the stub and the
 * stub reading the body — and any event-loop contention from the edge and the other answers in
 * this same process (a pessimistic setting: production runs the edge elsewhere).
 * Talks to 127.0.0.1 only: a throwaway database, a private queue prefix in Redis.
 */
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { GroqProvider } from '../src/llm/GroqProvider.ts';
import type { Tool, ToolSource } from '../src/tools/Tool.ts';
import { ApiClient } from '../test/support/ApiClient.ts';
import { startChatStack } from '../test/support/chatStack.ts';
import type { ChatRequestBody } from '../test/support/GroqStub.ts';
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
/**
 * Each model call's time to first token is drawn from 0..jitter ms, so N answers drift apart as
 * independent ones do; 0 keeps them in lock-step (every step of every answer in the same burst).
 */
const jitterMs = Number(flags['jitter-ms']);

/** When each tool result was ready, by the token the result carries to the next request. */
const readyAt = new Map<string, number>();
let nextToken = 0;
const instantTool: ToolSource = {
  tools: async (): Promise<Tool[]> => [
    {
      name: 'bench_lookup',
      description: 'Answers at once.',
      parameters: { type: 'object', properties: {} },
      execute: async () => {
        const token = `ready-${nextToken++}`;
        readyAt.set(token, performance.now());
        return { content: token, summary: token };
      },
    },
  ],
};

const out = (text = '') => process.stdout.write(`${text}\n`);

const toolResults = (body: ChatRequestBody) => body.messages.filter((message) => message.role === 'tool');

/**
 * Splits the figure in two: the loop's own part (result ready → the provider is called with the
 * next request) and the rest (groq-sdk, the HTTP hop, the stub reading the body). The provider's
 * `stream` is wrapped here, in the bench only, to stamp when the loop calls it.
 */
const loopOverheads: number[] = [];
const realStream = GroqProvider.prototype.stream;
GroqProvider.prototype.stream = function (request, onToken) {
  const last = request.messages.at(-1);
  const ready = last?.role === 'tool' ? readyAt.get(last.content) : undefined;
  if (ready !== undefined) loopOverheads.push(performance.now() - ready);
  return realStream.call(this, request, onToken);
};

const stack = await startChatStack(
  'bench_tools',
  { ttftMs: 1, tokensPerSecond: 0, answerTokens: 3 },
  { LOG_LEVEL: 'silent', RATE_LIMIT_MESSAGES: '100000/1m', CHAT_CONCURRENCY: '100' },
  { toolSources: [instantTool] },
);
const { stub, edge } = stack;
stub.configure({
  turn: (body) =>
    body.tools?.length && toolResults(body).length < steps
      ? { toolCalls: [{ name: 'bench_lookup', arguments: {} }] }
      : { text: ['done', '.'] },
});
const overheads: number[] = [];
let finals = 0;
let onFinal: () => void = () => {};
stub.on('request', (record) => {
  const now = performance.now();
  // Applies to this request: the stub copies its options right after announcing it.
  stub.configure({ ttftMs: Math.round(Math.random() * jitterMs) });
  const results = toolResults(record.body);
  const last = results.at(-1);
  const ready = last ? readyAt.get(String(last.content)) : undefined;
  if (ready !== undefined) overheads.push(now - ready);
  if (results.length >= steps) {
    finals += 1;
    onFinal();
  }
});

try {
  const api = new ApiClient(edge.url);
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
    const loopSamples: number[] = [];
    for (let round = 0; round < rounds + 1; round++) {
      overheads.length = 0;
      loopOverheads.length = 0;
      finals = 0;
      const allFinal = new Promise<void>((resolve) => {
        onFinal = () => finals >= n && resolve();
      });
      await Promise.all(
        conversations.map((id) =>
          api.request('POST', `/api/v1/conversations/${id}/messages`, {
            token: user.accessToken,
            body: { content: `question ${round}` },
          }),
        ),
      );
      await allFinal;
      // The first round warms up (JIT, connections, prepared statements): not counted.
      if (round > 0) {
        samples.push(...overheads);
        loopSamples.push(...loopOverheads);
      }
      // Let the answers' endings and follow-up jobs settle before the next burst.
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    const values = sorted(samples);
    const loop = sorted(loopSamples);
    rows.push([
      String(n),
      String(values.length),
      fixed(percentile(values, 50), 2),
      fixed(percentile(values, 95), 2),
      fixed(values[values.length - 1] ?? Number.NaN, 2),
      fixed(percentile(loop, 50), 2),
      fixed(percentile(loop, 95), 2),
    ]);
  }
  out(
    `\ntool result ready → next Groq request at the stub, ${steps} tool steps per answer, ${rounds} rounds, model TTFT 0–${jitterMs} ms`,
  );
  out(
    table(
      ['N concurrent', 'samples', 'p50 ms', 'p95 ms', 'max ms', 'loop part p50', 'loop part p95'],
      rows,
      1,
    ),
  );
  out('loop part: result ready → the loop calls the provider (the rest is groq-sdk, HTTP, the stub)');
  out('target: p95 < 10 ms at N=50');
} finally {
  await stack.stop();
}
