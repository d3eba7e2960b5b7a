/**
 * Relay benchmark: how well the chat pipeline (edge + worker + Redis + Postgres, as child processes)
 * relays a streamed answer from Groq to sockets, next to a direct baseline (one in-process
 * Socket.IO server calling Groq with groq-sdk and emitting every delta), against the same local
 * Groq stub, with the same clients. Prints figures, asserts nothing.
 *
 *   node bench/relay.ts [--streams 1,50,200,500] [--tps 500] [--tokens 300] [--ttft 50] [--timeout 120]
 *
 * Talks to 127.0.0.1 only; starts and stops everything it uses (a throwaway database, a private
 * queue prefix in Redis, two child processes, two stubs).
 */
import { availableParallelism } from 'node:os';
import { dirname, relative, resolve } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { loadConfig } from '../src/config.ts';
import { ApiClient, type Session } from '../test/support/ApiClient.ts';
import { GroqStub } from '../test/support/GroqStub.ts';
import {
  createTestDatabase,
  dropTestDatabases,
  TEST_DATABASE_ADMIN_URL,
  TEST_JWT_SECRET,
  TEST_REDIS_URL,
  uniqueQueuePrefix,
} from '../test/support/services.ts';
import { Cleanups, integerFlag, machineFacts, requireLocal } from './support/cleanup.ts';
import { DirectRelay } from './support/DirectRelay.ts';
import { CONTENT_PREFIX, lastUserText, MarkedAnswers } from './support/markedAnswers.ts';
import {
  CLK_TCK,
  cpuDelta,
  cpuOfProcessesMatching,
  cpuSeconds,
  type Memory,
  machineCpu,
  memory,
  resetPeak,
} from './support/proc.ts';
import { RelayClient, RunRecorder } from './support/RelayClient.ts';
import { freePort, ServiceProcess, waitForHttp } from './support/ServiceProcess.ts';
import { fixed, percentile, sorted, table } from './support/stats.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const MAX_USERS = 20;
const SETTLE_AFTER_TIMEOUT_MS = 30_000;
/** The pipeline caps answers at the maxTokens setting (default 1 024). */
const MAX_ANSWER_TOKENS = 1_024;
const TARGETS = { n: 200, rateShare: 0.95, addedTtftP95Ms: 25, lagP99Ms: 100 };

const out = (text = '') => process.stdout.write(`${text}\n`);
const progress = (text: string) => process.stderr.write(`  · ${text}\n`);

// ---- options ----

const usage =
  'node bench/relay.ts [--streams 1,50,200,500] [--tps 500] [--tokens 300] [--ttft 50] [--timeout 120]';
const { values: flags } = parseArgs({
  options: {
    streams: { type: 'string', default: '1,50,200,500' },
    tps: { type: 'string', default: '500' },
    tokens: { type: 'string', default: '300' },
    ttft: { type: 'string', default: '50' },
    timeout: { type: 'string', default: '120' },
    help: { type: 'boolean', default: false },
  },
  strict: true,
});
if (flags.help) {
  out(usage);
  process.exit(0);
}
const options = {
  streams: flags.streams.split(',').map((part) => integerFlag('streams', part.trim(), 1, 1_000)),
  tps: integerFlag('tps', flags.tps, 1, 100_000),
  tokens: integerFlag('tokens', flags.tokens, 2, MAX_ANSWER_TOKENS),
  ttftMs: integerFlag('ttft', flags.ttft, 0, 60_000),
  timeoutMs: integerFlag('timeout', flags.timeout, 1, 3_600) * 1_000,
};
const maxStreams = Math.max(...options.streams);
const userCount = Math.min(maxStreams, MAX_USERS);
const warmUpStreams = Math.min(maxStreams, 50);

requireLocal({ TEST_DATABASE_URL: TEST_DATABASE_ADMIN_URL, TEST_REDIS_URL });
const cleanups = new Cleanups('relay');

// ---- measuring one run ----

interface ProcessFigures {
  label: string;
  cpuSeconds: number;
  memory: Memory;
}

interface RunResult {
  system: string;
  n: number;
  users: number;
  ok: number;
  refused: number;
  errors: number;
  missing: number;
  mismatched: number;
  seqErrors: number;
  lateEvents: number;
  disconnects: number;
  unexpectedStubRequests: number;
  stubNotCompleted: number;
  unmatched: number;
  problems: string[];
  timedOut: boolean;
  /** First send → last chat:done / chat:error. */
  wallMs: number;
  /** The CPU measurement window: just before the first send → end of the run. */
  windowMs: number;
  tokensReceived: number;
  aggregateRate: number;
  rateP50: number;
  naiveRateP50: number;
  stubRateP50: number;
  addedTtft: [number, number, number];
  ttft: [number, number];
  /** TTFT broken down, p50/p95: send → ack, send → stub has the request, stub request → token 1 sent. */
  toAck: [number, number];
  toStub: [number, number];
  stubTtft: [number, number];
  lag: [number, number, number];
  batchesPerStream: number;
  clockSkewMs: number;
  processes: ProcessFigures[];
  bench: ProcessFigures;
  redisCpuSeconds: number;
  /** Backends serving this run's database. */
  postgresCpuSeconds: number;
  /** All cores, everything on the machine; and the part none of the above accounts for. */
  machineBusySeconds: number;
  stealSeconds: number;
  otherCpuSeconds: number;
  loopDelayMs: [number, number];
}

interface System {
  name: 'pipeline' | 'baseline';
  stub: GroqStub;
  clients: RelayClient[];
  /** A conversation per stream, or undefined to let the server make one. */
  prepare(count: number): Promise<(string | undefined)[]>;
  /** Child processes measured through /proc. */
  processes: { label: string; pid: number }[];
  /** The pipeline's database, to find its Postgres backends. */
  database?: string;
  /** Rejects if a child process dies. */
  guard: Promise<never>;
}

const answers = new MarkedAnswers(options.tokens);
let redis: Redis;

async function redisCpuSeconds(): Promise<number> {
  const info = await redis.info('cpu');
  const field = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? NaN);
  return field('used_cpu_sys') + field('used_cpu_user');
}

async function measure(system: System, n: number): Promise<RunResult> {
  system.stub.reset();
  answers.beginRun();
  const conversations = await system.prepare(n);
  const users = Math.min(n, system.clients.length);
  const recorder = new RunRecorder(n, options.tokens + 2, answers.width);
  for (const client of system.clients) client.recorder = recorder;

  const pids = [...system.processes, { label: 'bench', pid: process.pid }];
  for (const { pid } of pids) resetPeak(pid);
  const redisBefore = await redisCpuSeconds();
  const postgresBefore = system.database ? cpuOfProcessesMatching(system.database) : new Map();
  const machineBefore = machineCpu();
  const cpuBefore = system.processes.map(({ pid }) => cpuSeconds(pid));
  const selfBefore = process.cpuUsage();
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();

  const windowStart = performance.now();
  for (let index = 0; index < n; index++) {
    system.clients[index % users]!.send(
      index,
      `${CONTENT_PREFIX}${system.name} n${n} s${index}`,
      conversations[index],
    );
  }
  let timer: NodeJS.Timeout | undefined;
  const timedOut = await Promise.race([
    recorder.finished.then(() => false),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), options.timeoutMs);
    }),
    system.guard,
  ]);
  clearTimeout(timer);
  const windowMs = performance.now() - windowStart;
  const machineAfter = machineCpu();
  loop.disable();
  const self = process.cpuUsage(selfBefore);
  const processes = system.processes.map(({ label, pid }, index) => ({
    label,
    cpuSeconds: cpuSeconds(pid) - cpuBefore[index]!,
    memory: memory(pid),
  }));
  const postgresCpu = system.database ? cpuDelta(postgresBefore, cpuOfProcessesMatching(system.database)) : 0;
  const redisCpu = (await redisCpuSeconds()) - redisBefore;
  const bench = { label: 'bench', cpuSeconds: (self.user + self.system) / 1e6, memory: memory(process.pid) };
  const machineBusy = machineAfter.busy - machineBefore.busy;
  const accounted =
    processes.reduce((sum, figures) => sum + figures.cpuSeconds, 0) +
    bench.cpuSeconds +
    redisCpu +
    postgresCpu;
  const result = analyse(system, n, users, recorder, timedOut, windowMs, {
    processes,
    bench,
    redisCpuSeconds: redisCpu,
    postgresCpuSeconds: postgresCpu,
    machineBusySeconds: machineBusy,
    stealSeconds: machineAfter.steal - machineBefore.steal,
    otherCpuSeconds: machineBusy - accounted,
    loopDelayMs: [loop.percentile(99) / 1e6, loop.max / 1e6],
  });
  if (timedOut) {
    // Let the stragglers finish (unmeasured) so they don't load the next run.
    const settled = await Promise.race([
      recorder.finished.then(() => true),
      sleep(SETTLE_AFTER_TIMEOUT_MS, false, { ref: false }),
    ]);
    result.problems.push(
      settled
        ? `the stragglers ended ${fixed((performance.now() - windowStart) / 1_000, 1)} s after the first send`
        : `${recorder.streams.length - recorder.ended} stream(s) still open ${SETTLE_AFTER_TIMEOUT_MS / 1_000} s after the timeout`,
    );
  }
  for (const client of system.clients) client.recorder = undefined;
  return result;
}

function analyse(
  system: System,
  n: number,
  users: number,
  recorder: RunRecorder,
  timedOut: boolean,
  windowMs: number,
  resources: Pick<
    RunResult,
    | 'processes'
    | 'bench'
    | 'redisCpuSeconds'
    | 'postgresCpuSeconds'
    | 'machineBusySeconds'
    | 'stealSeconds'
    | 'otherCpuSeconds'
    | 'loopDelayMs'
  >,
): RunResult {
  const count = options.tokens;
  const problems = new Set<string>(recorder.refusals.map((refusal) => `refused: ${refusal}`));
  let ok = 0;
  let errors = 0;
  let missing = 0;
  let mismatched = 0;
  let unmatched = 0;
  let seqErrors = 0;
  let lateEvents = 0;
  let tokensReceived = 0;
  let batches = 0;
  let firstSend = Number.POSITIVE_INFINITY;
  let lastEnd = 0;
  const addedTtft: number[] = [];
  const ttft: number[] = [];
  const toAck: number[] = [];
  const toStub: number[] = [];
  const stubTtft: number[] = [];
  const rates: number[] = [];
  const naiveRates: number[] = [];
  const stubRates: number[] = [];
  const okStreams = [];

  for (const record of recorder.streams) {
    if (!record) continue; // refused (counted apart) or never acked (missing, below)
    firstSend = Math.min(firstSend, record.sendAt);
    tokensReceived += record.tokens;
    seqErrors += record.seqErrors;
    lateEvents += record.lateEvents;
    lastEnd = Math.max(lastEnd, record.endedAt || record.lastAt);
    if (!record.endedAt) {
      missing += 1;
      continue;
    }
    if (record.error) {
      errors += 1;
      problems.add(record.error);
      continue;
    }
    if (record.text !== answers.text || record.doneContent !== answers.text) {
      mismatched += 1;
      problems.add(
        `content differs from the stub's answer (${record.tokens}/${count} tokens streamed, chat:done holds ${Math.floor((record.doneContent?.length ?? 0) / answers.width)})`,
      );
      continue;
    }
    ok += 1;
    batches += record.batches;
    ttft.push(record.firstAt - record.sendAt);
    if (record.batches >= 2) {
      const seconds = (record.lastAt - record.firstAt) / 1_000;
      rates.push((record.tokens - record.firstBatchTokens) / seconds);
      naiveRates.push(record.tokens / seconds);
    }
    const side = answers.sides.get(record.content);
    if (!side || side.times[count - 1] === 0) {
      unmatched += 1;
      continue;
    }
    addedTtft.push(record.firstAt - side.times[0]!);
    toAck.push(record.ackAt - record.sendAt);
    toStub.push(side.plannedAt - record.sendAt);
    stubTtft.push(side.times[0]! - side.plannedAt);
    stubRates.push((count - 1) / ((side.times[count - 1]! - side.times[0]!) / 1_000));
    okStreams.push({ record, side });
  }
  missing += recorder.streams.filter((record) => !record).length - recorder.refusals.length;
  if (missing > 0)
    problems.add(`${missing} stream(s) without chat:done after ${options.timeoutMs / 1_000} s`);
  if (unmatched > 0) problems.add(`${unmatched} stream(s) not matched to a stub request`);

  // Token lag: each batch's arrival − when the stub sent the last token it contains.
  const lags = new Float64Array(batches);
  let lagCount = 0;
  for (const { record, side } of okStreams) {
    for (let batch = 0; batch < record.batches; batch++) {
      const tokens = record.batchTokens[batch]!;
      if (tokens > 0) lags[lagCount++] = record.batchAt[batch]! - side.times[tokens - 1]!;
    }
  }

  // GroqStub stamps firstTokenAt with Date.now(); the token times above are performance.now().
  let clockSkewMs = 0;
  let stubNotCompleted = 0;
  for (const request of system.stub.requests) {
    if (request.status !== 'completed') stubNotCompleted += 1;
    const side = answers.sides.get(lastUserText(request.body));
    if (side && request.firstTokenAt !== undefined && side.times[0]) {
      const skew = performance.timeOrigin + side.times[0] - request.firstTokenAt;
      if (Math.abs(skew) > Math.abs(clockSkewMs)) clockSkewMs = skew;
    }
  }
  if (stubNotCompleted > 0) problems.add(`${stubNotCompleted} stub request(s) not completed`);
  if (answers.unexpected > 0) problems.add(`${answers.unexpected} unexpected stub request(s)`);
  if (lateEvents > 0) problems.add(`${lateEvents} event(s) after chat:done`);
  if (seqErrors > 0) problems.add(`${seqErrors} chat:token seq out of order`);
  if (recorder.disconnects > 0) problems.add(`${recorder.disconnects} socket disconnect(s)`);

  const addedSorted = sorted(addedTtft);
  const ttftSorted = sorted(ttft);
  const lagSorted = lags.subarray(0, lagCount).sort();
  const wallMs = lastEnd > 0 ? lastEnd - firstSend : Number.NaN;
  return {
    system: system.name,
    n,
    users,
    ok,
    refused: recorder.refusals.length,
    errors,
    missing,
    mismatched,
    seqErrors,
    lateEvents,
    disconnects: recorder.disconnects,
    unexpectedStubRequests: answers.unexpected,
    stubNotCompleted,
    unmatched,
    problems: [...problems],
    timedOut,
    wallMs,
    windowMs,
    tokensReceived,
    aggregateRate: tokensReceived / (wallMs / 1_000),
    rateP50: percentile(sorted(rates), 50),
    naiveRateP50: percentile(sorted(naiveRates), 50),
    stubRateP50: percentile(sorted(stubRates), 50),
    addedTtft: [percentile(addedSorted, 50), percentile(addedSorted, 95), percentile(addedSorted, 99)],
    ttft: [percentile(ttftSorted, 50), percentile(ttftSorted, 95)],
    toAck: p50p95(toAck),
    toStub: p50p95(toStub),
    stubTtft: p50p95(stubTtft),
    lag: [percentile(lagSorted, 50), percentile(lagSorted, 95), percentile(lagSorted, 99)],
    batchesPerStream: ok > 0 ? batches / ok : Number.NaN,
    clockSkewMs,
    ...resources,
  };
}

function p50p95(values: number[]): [number, number] {
  const ordered = sorted(values);
  return [percentile(ordered, 50), percentile(ordered, 95)];
}

async function runAll(system: System, results: RunResult[]): Promise<void> {
  const warm = await measure(system, warmUpStreams);
  progress(
    `${system.name}: warm-up with ${warmUpStreams} streams: ${warm.ok} ok in ${fixed(warm.wallMs / 1_000, 2)} s${warm.problems.length ? ` (${warm.problems.join('; ')})` : ''}`,
  );
  for (const n of options.streams) {
    const result = await measure(system, n);
    results.push(result);
    progress(
      `${system.name} N=${n}: ${result.ok}/${n} ok in ${fixed(result.wallMs / 1_000, 2)} s${result.problems.length ? ` — ${result.problems.join('; ')}` : ''}`,
    );
  }
}

async function connectAll(url: string, tokens: string[]): Promise<RelayClient[]> {
  const clients = await Promise.all(tokens.map((token) => RelayClient.connect(url, token)));
  return clients;
}

// ---- the two systems ----

async function runPipeline(
  results: RunResult[],
): Promise<{ env: Record<string, string>; services: ServiceProcess[] }> {
  const stub = await GroqStub.start({
    ttftMs: options.ttftMs,
    tokensPerSecond: options.tps,
    answerTokens: options.tokens,
    answer: answers.answer,
  });
  const closeStub = cleanups.add('pipeline stub', () => stub.close());
  const databaseUrl = await createTestDatabase('bench');
  cleanups.add('database', () => dropTestDatabases());
  const prefix = uniqueQueuePrefix('bench');
  cleanups.add('redis keys', () => deleteKeys(`${prefix}*`));
  const port = await freePort();
  const env: Record<string, string> = {
    DATABASE_URL: databaseUrl,
    REDIS_URL: TEST_REDIS_URL,
    QUEUE_PREFIX: prefix,
    JWT_SECRET: TEST_JWT_SECRET,
    LOG_LEVEL: 'warn',
    DATABASE_POOL_MAX: '20',
    CHAT_CONCURRENCY: String(Math.max(600, maxStreams)),
    RATE_LIMIT_MESSAGES: '1000000/1m',
    RATE_LIMIT_AUTH: '1000/1m',
    PORT: String(port),
    HOST: '127.0.0.1',
    SHUTDOWN_TIMEOUT_MS: '10000',
  };
  const workerEnv = {
    ...env,
    WORKER_QUEUES: 'chat',
    GROQ_API_KEY: 'any',
    GROQ_BASE_URL: stub.baseURL,
  };
  loadConfig({ ...process.env, ...workerEnv }); // a bad setting fails here, with the variable's name

  // The edge first: it applies the migrations the worker then finds done.
  const edge = new ServiceProcess('edge', 'src/web.ts', env, ROOT);
  const stopEdge = cleanups.add('edge', () => edge.stop());
  const url = `http://127.0.0.1:${port}`;
  await Promise.race([waitForHttp(`${url}/health`, 60_000), edge.failOnExit()]);
  const worker = new ServiceProcess('worker', 'workers/index.ts', workerEnv, ROOT);
  const stopWorker = cleanups.add('worker', () => worker.stop());
  const guard = Promise.race([edge.failOnExit(), worker.failOnExit()]);
  guard.catch(() => {});
  progress(`pipeline: edge pid ${edge.pid} on ${url}, worker pid ${worker.pid}, stub ${stub.baseURL}`);

  const api = new ApiClient(url);
  const sessions: Session[] = await Promise.all(
    Array.from({ length: userCount }, (_, index) => api.signup(`bench${index}`)),
  );
  const clients = await connectAll(
    url,
    sessions.map((session) => session.accessToken),
  );
  const closeClients = cleanups.add('pipeline clients', () => {
    for (const client of clients) client.close();
  });
  const system: System = {
    name: 'pipeline',
    database: new URL(databaseUrl).pathname.slice(1),
    stub,
    clients,
    processes: [
      { label: 'edge', pid: edge.pid },
      { label: 'worker', pid: worker.pid },
    ],
    guard,
    // Titled conversations, made before timing: an untitled one would send a title job to the stub.
    async prepare(count) {
      const users = Math.min(count, sessions.length);
      const ids = new Array<string>(count);
      let next = 0;
      const lane = async () => {
        while (next < count) {
          const index = next++;
          const response = await api.request('POST', '/api/v1/conversations', {
            token: sessions[index % users]!.accessToken,
            body: { title: 'relay bench' },
          });
          if (response.status !== 201)
            throw new Error(`creating a conversation: ${response.status} ${JSON.stringify(response.body)}`);
          ids[index] = response.body.id;
        }
      };
      await Promise.all(Array.from({ length: Math.min(16, count) }, lane));
      return ids;
    },
  };
  await runAll(system, results);

  // Stopped before the baseline runs, so they take no CPU from it.
  await closeClients();
  await Promise.all([stopWorker(), stopEdge()]);
  await closeStub();
  return { env: workerEnv, services: [edge, worker] };
}

async function runBaseline(results: RunResult[]): Promise<void> {
  const stub = await GroqStub.start({
    ttftMs: options.ttftMs,
    tokensPerSecond: options.tps,
    answerTokens: options.tokens,
    answer: answers.answer,
  });
  const closeStub = cleanups.add('baseline stub', () => stub.close());
  const direct = await DirectRelay.start(stub.baseURL);
  const closeRelay = cleanups.add('direct relay', () => direct.close());
  progress(`baseline: in-process Socket.IO server on ${direct.url}, stub ${stub.baseURL}`);
  const clients = await connectAll(
    direct.url,
    Array.from({ length: userCount }, (_, index) => `user-${index}`),
  );
  const closeClients = cleanups.add('baseline clients', () => {
    for (const client of clients) client.close();
  });
  const system: System = {
    name: 'baseline',
    stub,
    clients,
    processes: [],
    guard: new Promise<never>(() => {}),
    prepare: async (count) => new Array(count).fill(undefined),
  };
  await runAll(system, results);
  await closeClients();
  await closeRelay();
  await closeStub();
}

async function deleteKeys(pattern: string): Promise<void> {
  let cursor = '0';
  do {
    const [nextCursor, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1_000);
    cursor = nextCursor;
    if (keys.length > 0) await redis.unlink(...keys);
  } while (cursor !== '0');
}

// ---- report ----

const ms = (value: number) => fixed(value, 1);
const percent = (share: number) => (Number.isFinite(share) ? `${(100 * share).toFixed(1)}%` : '–');
const joined = (values: number[], format: (value: number) => string = ms) => values.map(format).join('/');
const ratio = (a: number, b: number) => (Number.isFinite(a / b) ? (a / b).toFixed(2) : '–');
const ratios = (a: number[], b: number[]) => a.map((value, index) => ratio(value, b[index]!)).join('/');
const mb = (value: number) => fixed(value, 0);
const cpuCell = (figures: ProcessFigures | undefined, windowMs: number) =>
  figures
    ? `${fixed(figures.cpuSeconds, 2)} (${fixed((100 * figures.cpuSeconds) / (windowMs / 1_000), 0)}%)`
    : '–';
/** Everything measured: the children, this process (clients, stub, and the baseline's server) and Redis. */
const totalCpu = (result: RunResult) =>
  result.processes.reduce((sum, figures) => sum + figures.cpuSeconds, 0) +
  result.bench.cpuSeconds +
  result.redisCpuSeconds +
  result.postgresCpuSeconds;
const cores = availableParallelism();
/** Share of the whole machine (all cores) busy over the run's window. */
/** Share of the machine that neither the benchmark nor the services used: someone else's load. */
const otherShare = (result: RunResult) => result.otherCpuSeconds / (cores * (result.windowMs / 1_000));
const DISTURBED_SHARE = 0.1;
const machineShare = (result: RunResult) =>
  (100 * result.machineBusySeconds) / (cores * (result.windowMs / 1_000));
const memCell = (figures: ProcessFigures | undefined) =>
  figures ? `${mb(figures.memory.rssMb)}/${mb(figures.memory.peakMb)}` : '–';

function report(results: RunResult[], settings: { flushMs: number; flushChars: number }, startedAt: number) {
  const find = (system: string, n: number) =>
    results.find((result) => result.system === system && result.n === n);
  const throughput: string[][] = [];
  const resources: string[][] = [];
  const breakdown: string[][] = [];
  for (const n of options.streams) {
    const pipeline = find('pipeline', n);
    const baseline = find('baseline', n);
    for (const result of [pipeline, baseline]) {
      if (!result) continue;
      const failed = result.refused + result.errors + result.missing + result.mismatched;
      throughput.push([
        String(n),
        result.system,
        `${result.ok}/${n}`,
        String(failed),
        fixed(result.wallMs / 1_000, 2),
        fixed(result.aggregateRate, 0),
        fixed(result.rateP50, 0),
        percent(result.rateP50 / options.tps),
        fixed(result.naiveRateP50, 0),
        fixed(result.stubRateP50, 0),
        joined(result.addedTtft),
        joined(result.ttft),
        joined(result.lag),
        fixed(result.batchesPerStream, 1),
      ]);
      breakdown.push([
        String(n),
        result.system,
        joined(result.toAck),
        joined(result.toStub),
        joined(result.stubTtft),
        joined([result.addedTtft[0], result.addedTtft[1]]),
        joined(result.ttft),
      ]);
      const byLabel = (label: string) => result.processes.find((figures) => figures.label === label);
      resources.push([
        String(n),
        result.system,
        fixed(result.windowMs / 1_000, 2),
        cpuCell(byLabel('edge'), result.windowMs),
        cpuCell(byLabel('worker'), result.windowMs),
        cpuCell(result.bench, result.windowMs),
        fixed(result.redisCpuSeconds, 2),
        fixed(result.postgresCpuSeconds, 2),
        fixed(totalCpu(result), 2),
        `${fixed(result.machineBusySeconds, 2)} (${fixed(machineShare(result), 0)}%)`,
        fixed(result.otherCpuSeconds, 2),
        memCell(byLabel('edge')),
        memCell(byLabel('worker')),
        memCell(result.bench),
        joined(result.loopDelayMs),
      ]);
    }
    if (pipeline && baseline) {
      throughput.push([
        '',
        'pipe/base',
        '',
        '',
        ratio(pipeline.wallMs, baseline.wallMs),
        ratio(pipeline.aggregateRate, baseline.aggregateRate),
        ratio(pipeline.rateP50, baseline.rateP50),
        '',
        ratio(pipeline.naiveRateP50, baseline.naiveRateP50),
        ratio(pipeline.stubRateP50, baseline.stubRateP50),
        ratios(pipeline.addedTtft, baseline.addedTtft),
        ratios(pipeline.ttft, baseline.ttft),
        ratios(pipeline.lag, baseline.lag),
        ratio(pipeline.batchesPerStream, baseline.batchesPerStream),
      ]);
      resources.push([
        '',
        'pipe/base',
        ratio(pipeline.windowMs, baseline.windowMs),
        '',
        '',
        ratio(pipeline.bench.cpuSeconds, baseline.bench.cpuSeconds),
        '',
        '',
        ratio(totalCpu(pipeline), totalCpu(baseline)),
        '',
        '',
        '',
        '',
        '',
        '',
      ]);
    }
  }

  out();
  out('Throughput and latency (times in ms unless marked)');
  out(
    table(
      [
        'N',
        'system',
        'ok/N',
        'err',
        'wall s',
        'agg tok/s',
        'rate/stream',
        'of stub tps',
        'naive rate',
        'stub rate',
        '+TTFT p50/p95/p99',
        'TTFT p50/p95',
        'lag p50/p95/p99',
        'batches/stream',
      ],
      throughput,
    ),
  );
  out();
  out(
    'Time to first token, broken down (p50/p95 ms; the parts overlap: the ack may come after the stub has the request)',
  );
  out(
    table(
      [
        'N',
        'system',
        'send→ack',
        'send→stub request',
        'stub request→token 1',
        'token 1→client (+TTFT)',
        'send→client (TTFT)',
      ],
      breakdown,
    ),
  );
  out();
  out('Resources over each run (CPU s (% of one core over the window); RSS MiB end/peak in the run)');
  out(
    table(
      [
        'N',
        'system',
        'window s',
        'edge CPU',
        'worker CPU',
        'bench CPU',
        'redis CPU s',
        'pg CPU s',
        'all CPU s',
        'machine busy',
        'other CPU s',
        'edge RSS',
        'worker RSS',
        'bench RSS',
        'bench loop delay p99/max',
      ],
      resources,
    ),
  );

  const problems = results.filter((result) => result.problems.length > 0);
  out();
  if (problems.length === 0)
    out('Errors: none (every stream ended with chat:done and the exact stub answer).');
  for (const result of problems) out(`Errors, ${result.system} N=${result.n}: ${result.problems.join('; ')}`);
  const disturbed = results.filter((result) => otherShare(result) > DISTURBED_SHARE);
  if (disturbed.length === 0)
    out(
      `Interference: none to speak of (other CPU ≤ ${DISTURBED_SHARE * 100}% of the machine in every run).`,
    );
  for (const result of disturbed)
    out(
      `Interference, ${result.system} N=${result.n}: other processes / the kernel used ${fixed(result.otherCpuSeconds, 2)} CPU s = ${fixed(100 * otherShare(result), 0)}% of the machine during the run (steal ${fixed(result.stealSeconds, 2)} s): figures are disturbed.`,
    );
  const skew = Math.max(...results.map((result) => Math.abs(result.clockSkewMs)));
  out(
    `Clock check: the stub's firstTokenAt (Date.now) vs the recorded send time of token 1 (performance.now + timeOrigin): max |difference| ${fixed(skew, 1)} ms.`,
  );

  out();
  out('Columns');
  out('  wall s          first chat:send → last chat:done');
  out('  agg tok/s       stub tokens received by all clients / wall');
  out(
    '  rate/stream     median over streams of (tokens after the first batch) / (last batch − first batch), as the',
  );
  out(
    '                  client saw them: the delivered pace, not inflated by the tokens the first batch carries',
  );
  out(
    '  naive rate      median of tokens / (last batch − first batch): inflated by coalescing; shown for reference',
  );
  out(
    "  stub rate       median of the stub's own pace ((tokens − 1) / (last token sent − first token sent))",
  );
  out("  +TTFT           client's first chat:token − when the stub sent token 1 (added time to first token)");
  out('  TTFT            client first chat:token − chat:send');
  out(
    '  lag             per batch: arrival − when the stub sent the last token in it (all batches of all streams)',
  );
  out(
    '  bench           this process: clients + stub, and in the baseline also the server (process.cpuUsage)',
  );
  out('  redis CPU       INFO used_cpu_sys+user delta: the shared server, including anything else using it');
  out("  pg CPU          the Postgres backends connected to the pipeline's database");
  out('  all CPU         edge + worker + bench + redis + pg; the same stub and clients on both sides');
  out('  machine busy    all cores, every process (/proc/stat), and its share of nproc × window');
  out(
    '  other CPU       machine busy − all CPU: other processes on the machine, and kernel time charged to none',
  );

  out();
  const atTarget = find('pipeline', TARGETS.n);
  const baselineAtTarget = find('baseline', TARGETS.n);
  out(`Targets at N=${TARGETS.n} (pipeline; baseline in brackets)`);
  if (!atTarget) {
    out(`  N=${TARGETS.n} was not run (--streams ${options.streams.join(',')}).`);
  } else {
    const verdict = (met: boolean) => (met ? 'met' : 'NOT met');
    const share = atTarget.rateP50 / options.tps;
    const baseShare = baselineAtTarget ? baselineAtTarget.rateP50 / options.tps : Number.NaN;
    out(
      `  per-stream delivered rate ≥ ${TARGETS.rateShare * 100}% of the stub's ${options.tps} tok/s: ${fixed(atTarget.rateP50, 0)} tok/s = ${fixed(share * 100, 1)}% → ${verdict(share >= TARGETS.rateShare)}   [${fixed(baseShare * 100, 1)}%]`,
    );
    out(
      `  added TTFT p95 < ${TARGETS.addedTtftP95Ms} ms: ${ms(atTarget.addedTtft[1])} ms → ${verdict(atTarget.addedTtft[1] < TARGETS.addedTtftP95Ms)}   [${ms(baselineAtTarget?.addedTtft[1] ?? Number.NaN)} ms]`,
    );
    out(
      `  token lag p99 < ${TARGETS.lagP99Ms} ms: ${ms(atTarget.lag[2])} ms → ${verdict(atTarget.lag[2] < TARGETS.lagP99Ms)}   [${ms(baselineAtTarget?.lag[2] ?? Number.NaN)} ms]`,
    );
    const failed = atTarget.refused + atTarget.errors + atTarget.missing + atTarget.mismatched;
    if (otherShare(atTarget) > DISTURBED_SHARE)
      out(
        `  caution: other load took ${fixed(100 * otherShare(atTarget), 0)}% of the machine during this run; rerun on a quiet machine`,
      );
    out(
      `  streams failed or missing: ${failed}   [${baselineAtTarget ? baselineAtTarget.n - baselineAtTarget.ok : '–'}]`,
    );
  }

  out();
  out('Setup');
  out(
    `  stub: ttft ${options.ttftMs} ms, ${options.tps} tok/s per stream, ${options.tokens} tokens of ${answers.width} chars ("${answers.tokens[0]}", "${answers.tokens[1]}", …)`,
  );
  out(
    `  clients: ${userCount} users, one websocket each, streams spread round-robin (users per run = min(N, ${userCount})); warm-up run of ${warmUpStreams} streams per system, not reported`,
  );
  out(
    `  pipeline: 1 edge + 1 worker (WORKER_QUEUES=chat, CHAT_CONCURRENCY=${Math.max(600, maxStreams)}, DATABASE_POOL_MAX=20, LOG_LEVEL=warn), relay coalescing STREAM_FLUSH_MS=${settings.flushMs}, STREAM_FLUSH_CHARS=${settings.flushChars} (defaults); a fresh titled conversation per stream`,
  );
  out('  baseline: in-process node:http + socket.io server, groq-sdk stream → one chat:token per delta');
  out(`  machine: ${machineFacts()} (at end), CLK_TCK ${CLK_TCK}`);
  out(
    `  command: node ${relative(process.cwd(), fileURLToPath(import.meta.url)) || 'bench/relay.ts'} ${process.argv.slice(2).join(' ')}`.trimEnd(),
  );
  out(`  total time: ${fixed((performance.now() - startedAt) / 1_000, 1)} s`);
}

/** A pino line as "msg: err.message", or the start of a raw line. */
function summariseLine(line: string): string {
  try {
    const parsed = JSON.parse(line) as { msg?: string; err?: { message?: string } | string };
    const err = typeof parsed.err === 'string' ? parsed.err : parsed.err?.message;
    return [parsed.msg, err].filter(Boolean).join(': ');
  } catch {
    return line.slice(0, 200);
  }
}

// ---- main ----

async function main(): Promise<void> {
  const startedAt = performance.now();
  redis = new Redis(TEST_REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  cleanups.add('redis', () => redis.quit());
  const results: RunResult[] = [];
  progress(
    `relay benchmark: streams ${options.streams.join(',')}, stub ${options.tps} tok/s, ${options.tokens} tokens, ttft ${options.ttftMs} ms`,
  );
  const { env, services } = await runPipeline(results);
  await runBaseline(results);
  const settings = loadConfig({ ...process.env, ...env }).stream;
  for (const service of services) {
    if (service.warnings + service.errors > 0)
      progress(
        `${service.name} logged ${service.warnings} warning(s) and ${service.errors} error(s); last: ${summariseLine(service.tail.at(-1) ?? '')}`,
      );
  }
  report(results, settings, startedAt);
}

await cleanups.run(main);
