/**
 * Relay benchmark: what the chat pipeline (edge + chat worker(s) + Redis + Postgres, as child
 * processes) adds to a streamed answer's time to first token, what it costs in CPU and database
 * round trips, and how well it relays the stream — next to a direct baseline (a Socket.IO server
 * in a child process that calls Groq itself with groq-sdk and emits every delta), against the same
 * local Groq stub, with the same clients, in the same run. Prints figures, asserts nothing.
 *
 *   node bench/relay.ts [--streams 1,50,200] [--rate 50 --duration 10] [--rates 25,50,100,200]
 *                       [--target-ms 50] [--max-concurrent 200] [--cpu-n 100] [--short-tokens 30]
 *                       [--db-answers 5] [--min-samples 20] [--chat-workers 1|2] [--tps 500] [--tokens 300] [--ttft 50]
 *                       [--timeout 120] [--redis single|cluster]
 *
 * Clocks: every timestamp is taken on this one machine. This process stamps events with
 * performance.now() (monotonic, ms since performance.timeOrigin) and turns it into wall time as
 * performance.timeOrigin + performance.now() when it must be compared with a timestamp taken
 * elsewhere: BullMQ's 'active' events carry the Redis stream id, whose first part is Redis's own
 * Date-style clock in ms at the moment the job became active (same kernel clock, ms resolution).
 * The stub runs in this process, so its request and token times are performance.now() too.
 *
 * Talks to 127.0.0.1 only; starts and stops everything it uses (a throwaway database, a private
 * queue prefix in Redis, the child processes, two stubs).
 */

import { once } from 'node:events';
import { availableParallelism } from 'node:os';
import { dirname, relative, resolve } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { QueueEvents } from 'bullmq';
import { Cluster, Redis } from 'ioredis';
import { loadConfig } from '../src/config.ts';
import { createLogger } from '../src/logger.ts';
import { type RedisClient, RedisConnections } from '../src/redis/connections.ts';
import { bullmqPrefixOf } from '../src/redis/keys.ts';
import { ApiClient, type Session } from '../test/support/ApiClient.ts';
import { GroqStub } from '../test/support/GroqStub.ts';
import { PrivateCluster } from '../test/support/privateCluster.ts';
import {
  createTestDatabase,
  dropTestDatabases,
  TEST_DATABASE_ADMIN_URL,
  TEST_JWT_SECRET,
  TEST_REDIS_URL,
  uniqueQueuePrefix,
} from '../test/support/services.ts';
import { removeKeysUnder } from '../test/support/testKeys.ts';
import { Cleanups, integerFlag, machineFacts, numberFlag, requireLocal } from './support/cleanup.ts';
import { CONTENT_PREFIX, MarkedAnswers, type StubSide } from './support/markedAnswers.ts';
import { PgRoundTripCounter, type RoundTrip } from './support/pgWire.ts';
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
import { RelayClient, RunRecorder, type StreamRecord } from './support/RelayClient.ts';
import { freePort, ServiceProcess, waitForHttp } from './support/ServiceProcess.ts';
import { fixed, percentile, sorted, table } from './support/stats.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const MAX_USERS = 20;
const SETTLE_AFTER_TIMEOUT_MS = 30_000;
const CPU_TAIL_MS = 300;
/** Between the rounds of a small burst: the worker's writes after chat:done finish first. */
const ROUND_GAP_MS = 100;
/** The pipeline caps answers at the maxTokens setting (default 1 024). */
const MAX_ANSWER_TOKENS = 1_024;
/** The issue's targets. */
const TARGETS = {
  addedTtftP95Ms: new Map([
    [1, 15],
    [50, 60],
    [200, 250],
  ]),
  openLoopConcurrency: 200,
  openLoopAddedP95Ms: 50,
  rateN: 200,
  rateShare: 0.95,
  lagP99Ms: 100,
  cpuRatio: 1.5,
  fixedMsPerAnswer: 3,
  marginalUsPerToken: 6,
  dbRoundTrips: 3,
};

const out = (text = '') => process.stdout.write(`${text}\n`);
const progress = (text: string) => process.stderr.write(`  · ${text}\n`);

// ---- options ----

const usage = `node bench/relay.ts [--streams 1,50,200] [--rate <msg/s> --duration <s>] [--rates a,b,c]
    [--target-ms 50] [--max-concurrent 200] [--cpu-n 100] [--short-tokens 30] [--db-answers 5]
    [--min-samples 20] [--chat-workers 1|2] [--tps 500] [--tokens 300] [--ttft 50] [--timeout 120]
    [--redis single|cluster]
  --redis          single: the test Redis; cluster: a private Redis Cluster (3 masters + 3 replicas)
                   this run starts, or the one REDIS_CLUSTER_NODES names
  --streams        bursts: N chat:send at once, per N (empty string: none)
  --rate           one open-loop run: Poisson arrivals at this rate for --duration seconds
  --rates          open-loop sweep: the highest rate whose added TTFT p95 stays ≤ --target-ms
  --max-concurrent open loop: an arrival while this many streams are open is shed (and counted)
  --min-samples    a burst of N below this is repeated (one round after another) until it has this many streams
  --cpu-n          N of the two CPU-split bursts (--short-tokens and --tokens answers); 0: skip
  --db-answers     answers (one at a time) whose database round trips are counted; 0: skip
  --chat-workers   chat worker processes in the pipeline
  --cpu-prof <dir> run the chat worker(s) under node --cpu-prof, writing .cpuprofile files to <dir> on exit`;
const { values: flags } = parseArgs({
  options: {
    streams: { type: 'string', default: '1,50,200' },
    rate: { type: 'string' },
    rates: { type: 'string' },
    duration: { type: 'string', default: '10' },
    'target-ms': { type: 'string', default: '50' },
    'max-concurrent': { type: 'string', default: '200' },
    'cpu-n': { type: 'string', default: '100' },
    'short-tokens': { type: 'string', default: '30' },
    'db-answers': { type: 'string', default: '5' },
    'min-samples': { type: 'string', default: '20' },
    'chat-workers': { type: 'string', default: '1' },
    tps: { type: 'string', default: '500' },
    tokens: { type: 'string', default: '300' },
    ttft: { type: 'string', default: '50' },
    timeout: { type: 'string', default: '120' },
    'cpu-prof': { type: 'string' },
    redis: { type: 'string', default: 'single' },
    help: { type: 'boolean', default: false },
  },
  strict: true,
});
if (flags.help) {
  out(usage);
  process.exit(0);
}
const list = (raw: string | undefined, parse: (part: string) => number) =>
  (raw ?? '')
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part) => parse(part));
const options = {
  streams: list(flags.streams, (part) => integerFlag('streams', part, 1, 1_000)),
  rates: [
    ...new Set([
      ...list(flags.rate, (part) => numberFlag('rate', part, 0.1, 5_000)),
      ...list(flags.rates, (part) => numberFlag('rates', part, 0.1, 5_000)),
    ]),
  ].sort((a, b) => a - b),
  sweep: flags.rates !== undefined,
  durationS: numberFlag('duration', flags.duration, 0.5, 3_600),
  targetMs: numberFlag('target-ms', flags['target-ms'], 0, 60_000),
  maxConcurrent: integerFlag('max-concurrent', flags['max-concurrent'], 1, 5_000),
  cpuN: integerFlag('cpu-n', flags['cpu-n'], 0, 1_000),
  shortTokens: integerFlag('short-tokens', flags['short-tokens'], 1, MAX_ANSWER_TOKENS),
  dbAnswers: integerFlag('db-answers', flags['db-answers'], 0, 100),
  minSamples: integerFlag('min-samples', flags['min-samples'], 1, 1_000),
  chatWorkers: integerFlag('chat-workers', flags['chat-workers'], 1, 8),
  tps: integerFlag('tps', flags.tps, 1, 100_000),
  tokens: integerFlag('tokens', flags.tokens, 2, MAX_ANSWER_TOKENS),
  ttftMs: integerFlag('ttft', flags.ttft, 0, 60_000),
  timeoutMs: integerFlag('timeout', flags.timeout, 1, 3_600) * 1_000,
  cpuProfDir: flags['cpu-prof'] ? resolve(flags['cpu-prof']) : undefined,
  redis: flags.redis === 'cluster' ? ('cluster' as const) : ('single' as const),
};
if (!['single', 'cluster'].includes(flags.redis ?? '')) {
  console.error('--redis must be single or cluster');
  process.exit(2);
}
if (options.cpuN > 0 && options.shortTokens >= options.tokens) {
  console.error('--short-tokens must be below --tokens (the CPU split needs two answer lengths)');
  process.exit(2);
}
const maxBurst = Math.max(0, ...options.streams, options.cpuN);
const maxOpen = options.rates.length > 0 ? options.maxConcurrent : 0;
const userCount = Math.max(1, Math.min(Math.max(maxBurst, maxOpen, 1), MAX_USERS));
const warmUpStreams = Math.min(Math.max(maxBurst, maxOpen, 1), 50);

requireLocal({ TEST_DATABASE_URL: TEST_DATABASE_ADMIN_URL, TEST_REDIS_URL });
const cleanups = new Cleanups('relay');

/** performance.now() → wall-clock ms (see the clock note at the top). */
const wall = (now: number) => performance.timeOrigin + now;

// ---- what a run is ----

type Spec =
  /** `rounds` bursts of N, each sent once the previous one has ended (default 1). */
  | { kind: 'burst' | 'cpu' | 'warm-up' | 'db'; n: number; tokens: number; rounds?: number }
  | { kind: 'open'; rate: number; durationS: number; tokens: number };

const specKey = (spec: Spec) =>
  spec.kind === 'open' ? `open ${spec.rate}/s` : `${spec.kind} ${spec.n}×${spec.tokens}`;
const burstSpec = (n: number): Spec => ({
  kind: 'burst',
  n,
  tokens: options.tokens,
  rounds: Math.max(1, Math.ceil(options.minSamples / n)),
});

interface ProcessFigures {
  label: string;
  cpuSeconds: number;
  /** CPU seconds this process uses over the same window when idle (measured before the runs). */
  idleSeconds: number;
  memory: Memory;
}

type P3 = [number, number, number];

/** One answer that ended well, with what each side recorded of it. */
interface StreamDetail {
  record: StreamRecord;
  side: StubSide;
  /** Wall-clock ms the chat job became active (pipeline only). */
  activeAt: number | undefined;
}

interface RunResult {
  system: 'pipeline' | 'baseline';
  spec: Spec;
  sent: number;
  shed: number;
  peakOpen: number;
  ok: number;
  failed: number;
  problems: string[];
  timedOut: boolean;
  /** First send → last chat:done / chat:error. */
  wallMs: number;
  /** The CPU measurement window: just before the first send → end of the run. */
  windowMs: number;
  ttft: P3;
  toAck: P3;
  ackToActive: P3;
  activeToRequest: P3;
  stubTtft: P3;
  tokenToClient: P3;
  rateP50: number;
  stubRateP50: number;
  lag: P3;
  batchesPerStream: number;
  /** Stub tokens in the answers that ended well. */
  tokensRelayed: number;
  processes: ProcessFigures[];
  benchCpuSeconds: number;
  redisCpuSeconds: number;
  postgresCpuSeconds: number;
  machineBusySeconds: number;
  stealSeconds: number;
  otherCpuSeconds: number;
  loopDelayMs: [number, number];
  details: StreamDetail[];
}

interface System {
  name: 'pipeline' | 'baseline';
  stub: GroqStub;
  clients: RelayClient[];
  /** A conversation per stream, or undefined to let the server make one. */
  prepare(count: number): Promise<(string | undefined)[]>;
  /** Child processes measured through /proc, with their idle CPU rate (s per s). */
  processes: { label: string; pid: number; idleRate: number }[];
  /** The pipeline's database, to find its Postgres backends. */
  database?: string;
  /** Rejects if a child process dies. */
  guard: Promise<never>;
}

/** Answers by length; the stubs answer with `current`, switched before each run. */
const answerSets = new Map<number, MarkedAnswers>();
const answersOf = (tokens: number) => {
  let set = answerSets.get(tokens);
  if (!set) {
    set = new MarkedAnswers(tokens);
    answerSets.set(tokens, set);
  }
  return set;
};
let current = answersOf(options.tokens);
const stubAnswer = (body: Parameters<MarkedAnswers['answer']>[0]) => current.answer(body);

/** Wall-clock ms each chat job became active, by job id (= assistant message id). */
const activeAt = new Map<string, number>();
let redis: RedisClient;
/** REDIS_URL or REDIS_CLUSTER_NODES for the pipeline's processes (set in main). */
let redisEnv: Record<string, string> = { REDIS_URL: TEST_REDIS_URL };

/** CPU of the Redis server, or the sum over every node of the cluster (replicas do work too). */
async function redisCpuSeconds(): Promise<number> {
  const servers = redis instanceof Cluster ? redis.nodes('all') : [redis];
  let total = 0;
  for (const server of servers) {
    const info = await server.info('cpu');
    const field = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? NaN);
    total += field('used_cpu_sys') + field('used_cpu_user');
  }
  return total;
}

/** Poisson arrivals (exponential gaps) over `durationS`, in ms from the start; seeded, so both systems get the same. */
function poissonArrivals(rate: number, durationS: number, seed: number): number[] {
  let state = seed >>> 0 || 1;
  const random = () => {
    // mulberry32
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  const times: number[] = [];
  for (let at = -Math.log(1 - random()) / rate; at < durationS; at += -Math.log(1 - random()) / rate)
    times.push(at * 1_000);
  return times;
}

/** CPU seconds per second a process uses when nothing is asked of it. */
async function idleRate(pid: number, ms = 1_000): Promise<number> {
  const before = cpuSeconds(pid);
  await sleep(ms);
  return (cpuSeconds(pid) - before) / (ms / 1_000);
}

// ---- measuring one run ----

async function measure(system: System, spec: Spec): Promise<RunResult> {
  system.stub.reset();
  current = answersOf(spec.tokens);
  current.beginRun();
  const arrivals =
    spec.kind === 'open'
      ? poissonArrivals(spec.rate, spec.durationS, Math.round(spec.rate * 1_000) + 7)
      : new Array<number>(spec.n * (spec.rounds ?? 1)).fill(0);
  const roundSize = spec.kind === 'open' ? Number.POSITIVE_INFINITY : spec.n;
  const cap = spec.kind === 'open' ? options.maxConcurrent : Number.POSITIVE_INFINITY;
  const count = arrivals.length;
  const conversations = await system.prepare(count);
  const recorder = new RunRecorder(count, spec.tokens + 2, current.width);
  for (const client of system.clients) client.recorder = recorder;

  for (const { pid } of system.processes) resetPeak(pid);
  const redisBefore = await redisCpuSeconds();
  const postgresBefore = system.database ? cpuOfProcessesMatching(system.database) : new Map();
  const machineBefore = machineCpu();
  const cpuBefore = system.processes.map(({ pid }) => cpuSeconds(pid));
  const selfBefore = process.cpuUsage();
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();

  const windowStart = performance.now();
  let peakOpen = 0;
  let stopSending = false;
  const sending = (async () => {
    for (let index = 0; index < count; index++) {
      if (index > 0 && index % roundSize === 0) {
        await recorder.endedAtLeast(index);
        await sleep(ROUND_GAP_MS);
      }
      const wait = windowStart + arrivals[index]! - performance.now();
      if (wait >= 1) await sleep(wait);
      const open = index - recorder.ended;
      if (stopSending || open >= cap) {
        recorder.skip();
        continue;
      }
      peakOpen = Math.max(peakOpen, open + 1);
      system.clients[index % system.clients.length]!.send(
        index,
        `${CONTENT_PREFIX}${system.name} ${specKey(spec)} s${index}`,
        conversations[index],
      );
    }
  })();
  let timer: NodeJS.Timeout | undefined;
  const runTimeout = options.timeoutMs + (spec.kind === 'open' ? spec.durationS * 1_000 : 0);
  const timedOut = await Promise.race([
    Promise.all([sending, recorder.finished]).then(() => false),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), runTimeout);
    }),
    system.guard,
  ]);
  clearTimeout(timer);
  stopSending = true; // after a timeout, a burst's later rounds or late arrivals are not sent
  // The CPU split's runs wait a little, so the workers' writes after chat:done fall in the window too
  // (their idle CPU over the longer window is subtracted).
  if (spec.kind === 'cpu') await sleep(CPU_TAIL_MS);
  const windowMs = performance.now() - windowStart;
  const machineAfter = machineCpu();
  loop.disable();
  const self = process.cpuUsage(selfBefore);
  const processes = system.processes.map(({ label, pid, idleRate }, index) => ({
    label,
    cpuSeconds: cpuSeconds(pid) - cpuBefore[index]!,
    idleSeconds: idleRate * (windowMs / 1_000),
    memory: memory(pid),
  }));
  const postgresCpu = system.database ? cpuDelta(postgresBefore, cpuOfProcessesMatching(system.database)) : 0;
  const redisCpu = (await redisCpuSeconds()) - redisBefore;
  const benchCpu = (self.user + self.system) / 1e6;
  const machineBusy = machineAfter.busy - machineBefore.busy;
  const accounted =
    processes.reduce((sum, figures) => sum + figures.cpuSeconds, 0) + benchCpu + redisCpu + postgresCpu;
  const result = analyse(system, spec, recorder, peakOpen, timedOut, windowMs, {
    processes,
    benchCpuSeconds: benchCpu,
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
  spec: Spec,
  recorder: RunRecorder,
  peakOpen: number,
  timedOut: boolean,
  windowMs: number,
  resources: Pick<
    RunResult,
    | 'processes'
    | 'benchCpuSeconds'
    | 'redisCpuSeconds'
    | 'postgresCpuSeconds'
    | 'machineBusySeconds'
    | 'stealSeconds'
    | 'otherCpuSeconds'
    | 'loopDelayMs'
  >,
): RunResult {
  const answers = current;
  const count = spec.tokens;
  const problems = new Set<string>(recorder.refusals.map((refusal) => `refused: ${refusal}`));
  let errors = 0;
  let missing = 0;
  let mismatched = 0;
  let unmatched = 0;
  let noActive = 0;
  let seqErrors = 0;
  let lateEvents = 0;
  let batches = 0;
  let firstSend = Number.POSITIVE_INFINITY;
  let lastEnd = 0;
  const ttft: number[] = [];
  const toAck: number[] = [];
  const ackToActive: number[] = [];
  const activeToRequest: number[] = [];
  const stubTtft: number[] = [];
  const tokenToClient: number[] = [];
  const rates: number[] = [];
  const stubRates: number[] = [];
  const details: StreamDetail[] = [];

  for (const record of recorder.streams) {
    if (!record) continue; // refused or shed (counted apart) or never acked (missing, below)
    firstSend = Math.min(firstSend, record.sendAt);
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
    const side = answers.sides.get(record.content);
    if (!side || side.times[count - 1] === 0) {
      unmatched += 1;
      continue;
    }
    batches += record.batches;
    ttft.push(record.firstAt - record.sendAt);
    toAck.push(record.ackAt - record.sendAt);
    stubTtft.push(side.times[0]! - side.plannedAt);
    tokenToClient.push(record.firstAt - side.times[0]!);
    const active = activeAt.get(record.messageId);
    if (system.name === 'pipeline') {
      if (active === undefined) noActive += 1;
      else {
        ackToActive.push(active - wall(record.ackAt));
        activeToRequest.push(wall(side.plannedAt) - active);
      }
    }
    if (record.batches >= 2)
      rates.push((record.tokens - record.firstBatchTokens) / ((record.lastAt - record.firstAt) / 1_000));
    if (count >= 2) stubRates.push((count - 1) / ((side.times[count - 1]! - side.times[0]!) / 1_000));
    details.push({ record, side, activeAt: active });
  }
  missing += recorder.streams.filter((record) => !record).length - recorder.refusals.length - recorder.shed;
  if (missing > 0) problems.add(`${missing} stream(s) without chat:done in time`);
  if (unmatched > 0) problems.add(`${unmatched} stream(s) not matched to a stub request`);
  if (noActive > 0) problems.add(`${noActive} stream(s) without a BullMQ 'active' event`);
  if (recorder.shed > 0)
    problems.add(`${recorder.shed} arrival(s) shed at ${options.maxConcurrent} open streams`);

  // Token lag: each batch's arrival − when the stub sent the last token it contains.
  const lags: number[] = [];
  for (const { record, side } of details) {
    for (let batch = 0; batch < record.batches; batch++) {
      const tokens = record.batchTokens[batch]!;
      if (tokens > 0) lags.push(record.batchAt[batch]! - side.times[tokens - 1]!);
    }
  }
  let stubNotCompleted = 0;
  for (const request of system.stub.requests) if (request.status !== 'completed') stubNotCompleted += 1;
  if (stubNotCompleted > 0) problems.add(`${stubNotCompleted} stub request(s) not completed`);
  if (answers.unexpected > 0) problems.add(`${answers.unexpected} unexpected stub request(s)`);
  if (lateEvents > 0) problems.add(`${lateEvents} event(s) after chat:done`);
  if (seqErrors > 0) problems.add(`${seqErrors} chat:token seq out of order`);
  if (recorder.disconnects > 0) problems.add(`${recorder.disconnects} socket disconnect(s)`);

  const ok = details.length;
  return {
    system: system.name,
    spec,
    sent: recorder.streams.length - recorder.shed,
    shed: recorder.shed,
    peakOpen,
    ok,
    failed: recorder.refusals.length + errors + missing + mismatched + unmatched,
    problems: [...problems],
    timedOut,
    wallMs: lastEnd > 0 ? lastEnd - firstSend : Number.NaN,
    windowMs,
    ttft: p3(ttft),
    toAck: p3(toAck),
    ackToActive: p3(ackToActive),
    activeToRequest: p3(activeToRequest),
    stubTtft: p3(stubTtft),
    tokenToClient: p3(tokenToClient),
    rateP50: percentile(sorted(rates), 50),
    stubRateP50: percentile(sorted(stubRates), 50),
    lag: p3(lags),
    batchesPerStream: ok > 0 ? batches / ok : Number.NaN,
    tokensRelayed: ok * count,
    details,
    ...resources,
  };
}

function p3(values: number[]): P3 {
  const ordered = sorted(values);
  return [percentile(ordered, 50), percentile(ordered, 95), percentile(ordered, 99)];
}

/** Runs every spec on one system, in order; a warm-up first, not reported. */
async function runAll(system: System, specs: Spec[], results: RunResult[]): Promise<void> {
  const warm = await measure(system, { kind: 'warm-up', n: warmUpStreams, tokens: options.tokens });
  progress(
    `${system.name}: warm-up with ${warmUpStreams} streams: ${warm.ok} ok in ${fixed(warm.wallMs / 1_000, 2)} s${warm.problems.length ? ` (${warm.problems.join('; ')})` : ''}`,
  );
  for (const spec of specs) {
    // The CPU split subtracts what the processes use idle: measured right before, when they are.
    if (spec.kind === 'cpu' && spec.tokens === options.shortTokens)
      await Promise.all(
        system.processes.map(async (entry) => {
          entry.idleRate = await idleRate(entry.pid);
        }),
      );
    const result = await measure(system, spec);
    result.details = []; // only the database count keeps them
    results.push(result);
    progress(
      `${system.name} ${specKey(spec)}: ${result.ok}/${result.sent} ok in ${fixed(result.wallMs / 1_000, 2)} s, TTFT p95 ${fixed(result.ttft[1], 1)} ms${result.problems.length ? ` — ${result.problems.join('; ')}` : ''}`,
    );
  }
}

function specs(): Spec[] {
  const all: Spec[] = options.streams.map(burstSpec);
  if (options.cpuN > 0)
    all.push(
      { kind: 'cpu', n: options.cpuN, tokens: options.shortTokens },
      { kind: 'cpu', n: options.cpuN, tokens: options.tokens },
    );
  for (const rate of options.rates)
    all.push({ kind: 'open', rate, durationS: options.durationS, tokens: options.tokens });
  return all;
}

async function connectAll(url: string, tokens: string[]): Promise<RelayClient[]> {
  return Promise.all(tokens.map((token) => RelayClient.connect(url, token)));
}

// ---- the two systems ----

interface DbFigures {
  answers: number;
  /** Per answer: the edge's round trips from chat:send to its ack, and to the Groq request. */
  edgeToAck: number[];
  edgeBefore: number[];
  /** Per answer: the worker's round trips from chat:send to the Groq request, and from job active to it. */
  workerBefore: number[];
  afterActive: number[];
  /** Per answer: edge + worker, from chat:send to 300 ms after chat:done (the whole answer). */
  whole: number[];
  /** The last counted answer's statements before its Groq request. */
  sample: RoundTrip[];
}

async function runPipeline(results: RunResult[]): Promise<{ env: Record<string, string>; db?: DbFigures }> {
  const stub = await GroqStub.start({
    ttftMs: options.ttftMs,
    tokensPerSecond: options.tps,
    answer: stubAnswer,
  });
  const closeStub = cleanups.add('pipeline stub', () => stub.close());
  const databaseUrl = await createTestDatabase('bench');
  cleanups.add('database', () => dropTestDatabases());
  const prefix = uniqueQueuePrefix('bench');
  cleanups.add('redis keys', () => deleteKeys(prefix));
  const port = await freePort();
  const env: Record<string, string> = {
    DATABASE_URL: databaseUrl,
    ...redisEnv,
    QUEUE_PREFIX: prefix,
    JWT_SECRET: TEST_JWT_SECRET,
    LOG_LEVEL: 'warn',
    DATABASE_POOL_MAX: '20',
    CHAT_CONCURRENCY: String(Math.max(600, maxBurst, options.maxConcurrent)),
    RATE_LIMIT_MESSAGES: '1000000/1m',
    RATE_LIMIT_AUTH: '1000/1m',
    PORT: String(port),
    HOST: '127.0.0.1',
    SHUTDOWN_TIMEOUT_MS: '10000',
  };
  const workerEnv = { ...env, WORKER_QUEUES: 'chat', GROQ_API_KEY: 'any', GROQ_BASE_URL: stub.baseURL };
  loadConfig({ ...process.env, ...workerEnv }); // a bad setting fails here, with the variable's name

  // BullMQ's job events: 'active' carries the Redis stream id, "<Redis ms>-<seq>".
  const eventsConnection = new RedisConnections(
    { url: redisEnv.REDIS_URL, clusterNodes: loadConfig({ ...redisEnv }).redis.clusterNodes },
    createLogger('silent'),
  );
  cleanups.add('queue events connection', () => eventsConnection.closeAll());
  const events = new QueueEvents('chat', {
    connection: eventsConnection.create('blocking', 'bench-events'),
    prefix: bullmqPrefixOf(loadConfig({ ...redisEnv, QUEUE_PREFIX: prefix })),
  });
  cleanups.add('queue events', () => events.close());
  events.on('active', ({ jobId }, id) => {
    activeAt.set(jobId, Number(id.split('-')[0]));
  });
  await events.waitUntilReady();

  // The edge first: it applies the migrations the workers then find done.
  const edge = new ServiceProcess('edge', 'src/web.ts', env, ROOT);
  const stopEdge = cleanups.add('edge', () => edge.stop());
  const url = `http://127.0.0.1:${port}`;
  await Promise.race([waitForHttp(`${url}/health`, 60_000), edge.failOnExit()]);
  const workers = Array.from(
    { length: options.chatWorkers },
    (_, index) =>
      new ServiceProcess(
        `worker${index + 1}`,
        'workers/index.ts',
        workerEnv,
        ROOT,
        [],
        options.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfDir}`] : [],
      ),
  );
  const stopWorkers = cleanups.add('workers', () => Promise.all(workers.map((worker) => worker.stop())));
  const guard = Promise.race([edge.failOnExit(), ...workers.map((worker) => worker.failOnExit())]);
  guard.catch(() => {});
  progress(
    `pipeline: edge pid ${edge.pid} on ${url}, chat worker pid(s) ${workers.map((worker) => worker.pid).join(', ')}, stub ${stub.baseURL}`,
  );

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
  const labelled = [
    { label: 'edge', pid: edge.pid },
    ...workers.map((worker) => ({ label: worker.name, pid: worker.pid })),
  ];
  const system: System = {
    name: 'pipeline',
    database: new URL(databaseUrl).pathname.slice(1),
    stub,
    clients,
    processes: labelled.map((entry) => ({ ...entry, idleRate: 0 })),
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
  await runAll(system, specs(), results);
  for (const worker of workers)
    if (worker.warnings + worker.errors > 0)
      progress(
        `${worker.name} logged ${worker.warnings} warning(s), ${worker.errors} error(s); last: ${summariseLine(worker.tail.at(-1) ?? '')}`,
      );
  await stopWorkers();

  // Database round trips: a second edge and one fresh chat worker, each with its Postgres
  // connections through a counting proxy of its own; one client on that edge; answers one at a
  // time, so nothing else talks to the database through those proxies meanwhile.
  let db: DbFigures | undefined;
  if (options.dbAnswers > 0) {
    const edgeCounter = await PgRoundTripCounter.start(databaseUrl);
    cleanups.add('pg counter (edge)', () => edgeCounter.close());
    const workerCounter = await PgRoundTripCounter.start(databaseUrl);
    cleanups.add('pg counter (worker)', () => workerCounter.close());
    const countedPort = await freePort();
    const countedEdge = new ServiceProcess(
      'edge-db',
      'src/web.ts',
      { ...env, DATABASE_URL: edgeCounter.rewrite(databaseUrl), PORT: String(countedPort) },
      ROOT,
    );
    const stopCountedEdge = cleanups.add('counting edge', () => countedEdge.stop());
    const countedUrl = `http://127.0.0.1:${countedPort}`;
    await Promise.race([waitForHttp(`${countedUrl}/health`, 60_000), countedEdge.failOnExit()]);
    const countedWorker = new ServiceProcess(
      'worker-db',
      'workers/index.ts',
      { ...workerEnv, DATABASE_URL: workerCounter.rewrite(databaseUrl) },
      ROOT,
    );
    const stopCountedWorker = cleanups.add('counting worker', () => countedWorker.stop());
    const countedClient = await RelayClient.connect(countedUrl, sessions[0]!.accessToken);
    const closeCountedClient = cleanups.add('counting client', () => countedClient.close());
    const countedGuard = Promise.race([countedEdge.failOnExit(), countedWorker.failOnExit()]);
    countedGuard.catch(() => {});
    const one: System = {
      ...system,
      clients: [countedClient],
      processes: [{ label: 'worker-db', pid: countedWorker.pid, idleRate: 0 }],
      guard: countedGuard,
    };
    db = {
      answers: 0,
      edgeToAck: [],
      edgeBefore: [],
      workerBefore: [],
      afterActive: [],
      whole: [],
      sample: [],
    };
    // Two answers first, uncounted: the pools' connections open, caches fill.
    for (let index = 0; index < options.dbAnswers + 2; index++) {
      const result = await measure(one, { kind: 'db', n: 1, tokens: options.shortTokens });
      await sleep(300);
      const detail = result.details[0];
      if (index < 2 || !detail) {
        if (!detail) progress(`database count: answer ${index + 1} failed (${result.problems.join('; ')})`);
        continue;
      }
      const { record, side } = detail;
      const edgeBefore = edgeCounter.between(record.sendAt, side.plannedAt);
      const workerBefore = workerCounter.between(record.sendAt, side.plannedAt);
      db.answers += 1;
      db.edgeToAck.push(edgeCounter.between(record.sendAt, record.ackAt).length);
      db.edgeBefore.push(edgeBefore.length);
      db.workerBefore.push(workerBefore.length);
      if (detail.activeAt !== undefined)
        db.afterActive.push(
          workerCounter.between(detail.activeAt - performance.timeOrigin, side.plannedAt).length,
        );
      db.whole.push(
        edgeCounter.between(record.sendAt, performance.now()).length +
          workerCounter.between(record.sendAt, performance.now()).length,
      );
      db.sample = [
        ...edgeBefore.map((trip) => ({ ...trip, sql: `edge   ${trip.sql}` })),
        ...workerBefore.map((trip) => ({ ...trip, sql: `worker ${trip.sql}` })),
      ].sort((x, y) => x.at - y.at);
    }
    await closeCountedClient();
    await Promise.all([stopCountedWorker(), stopCountedEdge()]);
  }

  // Stopped before the baseline runs, so they take no CPU from it.
  await closeClients();
  await stopEdge();
  await closeStub();
  return { env: workerEnv, db };
}

async function runBaseline(results: RunResult[]): Promise<void> {
  const stub = await GroqStub.start({
    ttftMs: options.ttftMs,
    tokensPerSecond: options.tps,
    answer: stubAnswer,
  });
  const closeStub = cleanups.add('baseline stub', () => stub.close());
  const server = new ServiceProcess('baseline', 'bench/support/directRelayMain.ts', {}, ROOT, [stub.baseURL]);
  const stopServer = cleanups.add('baseline server', () => server.stop());
  const line = await server.waitForLine((text) => text.startsWith('{"url"'), 30_000);
  const { url } = JSON.parse(line) as { url: string };
  progress(`baseline: Socket.IO server pid ${server.pid} on ${url}, stub ${stub.baseURL}`);
  const clients = await connectAll(
    url,
    Array.from({ length: userCount }, (_, index) => `user-${index}`),
  );
  const closeClients = cleanups.add('baseline clients', () => {
    for (const client of clients) client.close();
  });
  const system: System = {
    name: 'baseline',
    stub,
    clients,
    processes: [{ label: 'server', pid: server.pid, idleRate: 0 }],
    guard: server.failOnExit(),
    prepare: async (count) => new Array(count).fill(undefined),
  };
  system.guard.catch(() => {});
  await runAll(system, specs(), results);
  await closeClients();
  await stopServer();
  await closeStub();
}

async function deleteKeys(prefix: string): Promise<void> {
  await removeKeysUnder(redis, prefix);
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

// ---- report ----

const ms = (value: number) => fixed(value, 1);
const joined = (values: number[], format: (value: number) => string = ms) => values.map(format).join(' / ');
const diff = (a: P3, b: P3): P3 => [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
const percent = (share: number) => (Number.isFinite(share) ? `${(100 * share).toFixed(1)}%` : '–');
const ratio = (a: number, b: number) => (Number.isFinite(a / b) && b !== 0 ? (a / b).toFixed(2) : '–');
const verdict = (met: boolean | undefined) => (met === undefined ? '' : met ? 'met' : 'NOT met');
const cores = availableParallelism();
const DISTURBED_SHARE = 0.1;
const otherShare = (result: RunResult) => result.otherCpuSeconds / (cores * (result.windowMs / 1_000));
/** How much of the whole machine was busy over a run: near 100 % means the cores were the limit. */
const busyShare = (result: RunResult) => result.machineBusySeconds / (cores * (result.windowMs / 1_000));
/** The pipeline process (or service) that used the most CPU over a run, as a share of one core:
 * a Node process near 100 % is saturated, whatever the machine has left. */
const busiest = (result: RunResult) => {
  const seconds = [
    ...result.processes.map(({ label, cpuSeconds }) => [label, cpuSeconds] as const),
    ['redis', result.redisCpuSeconds] as const,
    ['postgres (all backends)', result.postgresCpuSeconds] as const,
  ].sort((a, b) => b[1] - a[1])[0];
  return seconds ? `${seconds[0]} ${fixed((100 * seconds[1]) / (result.windowMs / 1_000), 0)}%` : '';
};
const sumCpu = (result: RunResult, match: (label: string) => boolean) =>
  result.processes.filter(({ label }) => match(label)).reduce((sum, figures) => sum + figures.cpuSeconds, 0);
const isWorker = (label: string) => label.startsWith('worker');
/** The services: edge + chat worker(s), and Redis + Postgres when `stores`; the baseline's server. */
const serviceCpu = (result: RunResult, stores: boolean) =>
  sumCpu(result, () => true) + (stores ? result.redisCpuSeconds + result.postgresCpuSeconds : 0);
const label = (spec: Spec) =>
  spec.kind === 'open'
    ? `${spec.rate}/s × ${spec.durationS} s`
    : `N=${spec.n}${spec.kind === 'cpu' ? ` × ${spec.tokens} tok` : ''}`;

function report(
  results: RunResult[],
  db: DbFigures | undefined,
  settings: { flushMs: number; flushChars: number },
  startedAt: number,
) {
  const pair = (key: string) => ({
    pipeline: results.find((result) => result.system === 'pipeline' && specKey(result.spec) === key),
    baseline: results.find((result) => result.system === 'baseline' && specKey(result.spec) === key),
  });
  const targetLines: string[] = [];

  out();
  out(
    `command: node ${relative(process.cwd(), fileURLToPath(import.meta.url)) || 'bench/relay.ts'} ${process.argv.slice(2).join(' ')}`.trimEnd(),
  );
  out(`machine: ${machineFacts()} (at end), CLK_TCK ${CLK_TCK}`);
  out(
    `stub: ttft ${options.ttftMs} ms, ${options.tps} tok/s per stream, ${options.tokens}-token answers (${options.shortTokens} in the short CPU run); ${userCount} client sockets, streams round-robin over them`,
  );
  out(
    `pipeline: 1 edge + ${options.chatWorkers} chat worker process(es) (CHAT_CONCURRENCY=${Math.max(600, maxBurst, options.maxConcurrent)}, DATABASE_POOL_MAX=20, LOG_LEVEL=warn, STREAM_FLUSH_MS=${settings.flushMs}, STREAM_FLUSH_CHARS=${settings.flushChars}), a fresh titled conversation per stream; baseline: one Socket.IO server process calling the stub with groq-sdk, one chat:token per delta`,
  );

  // 1. Bursts: added TTFT.
  const bursts = options.streams.map((n) => pair(specKey(burstSpec(n))));
  if (bursts.length > 0) {
    out();
    out(
      `1. Bursts: time to first token (send → first chat:token on the client), ms p50 / p95 / p99; a burst of N < ${options.minSamples} is repeated in rounds until it has ${options.minSamples} streams`,
    );
    out(
      '   added = pipeline percentile − baseline percentile (differences of the percentiles, not percentiles of differences)',
    );
    const rows: string[][] = [];
    for (const { pipeline, baseline } of bursts) {
      const n = (pipeline ?? baseline)!.spec as { n: number };
      const added = pipeline && baseline ? diff(pipeline.ttft, baseline.ttft) : undefined;
      const target = TARGETS.addedTtftP95Ms.get(n.n);
      const met = added && target !== undefined ? added[1] <= target : undefined;
      rows.push([
        String(n.n),
        pipeline ? `${pipeline.ok}/${pipeline.sent}` : '–',
        baseline ? `${baseline.ok}/${baseline.sent}` : '–',
        pipeline ? joined(pipeline.ttft) : '–',
        baseline ? joined(baseline.ttft) : '–',
        added ? joined(added) : '–',
        target !== undefined ? `≤ ${target}` : '',
        verdict(met),
      ]);
      if (target !== undefined && added)
        targetLines.push(
          `added TTFT p95 at N=${n.n}: ${ms(added[1])} ms (target ≤ ${target}) → ${verdict(met)}`,
        );
    }
    out(
      table(
        ['N', 'ok pipe', 'ok base', 'pipeline TTFT', 'baseline TTFT', 'added TTFT', 'target p95', ''],
        rows,
        1,
      ),
    );

    out();
    out(
      '2. Pipeline TTFT broken down, ms p50 / p95 / p99 (each part over all streams; parts do not sum at p95/p99)',
    );
    out(
      table(
        [
          'N',
          'send→ack',
          'ack→job active',
          'active→Groq request',
          'request→token 1 (stub)',
          'token 1→client',
          'send→client (TTFT)',
        ],
        bursts.flatMap(({ pipeline, baseline }) => {
          const rowsOf = [pipeline, baseline].filter((result): result is RunResult => !!result);
          return rowsOf.map((result) => [
            `${(result.spec as { n: number }).n} ${result.system === 'baseline' ? '(baseline)' : ''}`.trim(),
            joined(result.toAck),
            result.system === 'pipeline' ? joined(result.ackToActive) : '–',
            result.system === 'pipeline' ? joined(result.activeToRequest) : '–',
            joined(result.stubTtft),
            joined(result.tokenToClient),
            joined(result.ttft),
          ]);
        }),
        1,
      ),
    );
    out(
      '   ack→job active is negative when the job starts before the client has its ack (the edge enqueues, then acks).',
    );

    out();
    out(
      '3. Bursts: delivery (rate/stream = median of (tokens after the first batch) / (last − first batch), client-side)',
    );
    const delivery: string[][] = [];
    for (const { pipeline, baseline } of bursts) {
      for (const result of [pipeline, baseline]) {
        if (!result) continue;
        delivery.push([
          String((result.spec as { n: number }).n),
          result.system,
          fixed(result.wallMs / 1_000, 2),
          fixed(result.rateP50, 0),
          percent(result.rateP50 / options.tps),
          fixed(result.stubRateP50, 0),
          joined(result.lag),
          fixed(result.batchesPerStream, 1),
          String(result.failed),
        ]);
      }
      const n = ((pipeline ?? baseline)!.spec as { n: number }).n;
      if (n === TARGETS.rateN && pipeline) {
        const share = pipeline.rateP50 / options.tps;
        targetLines.push(
          `delivered rate at N=${n}: ${percent(share)} of ${options.tps} tok/s (target ≥ ${TARGETS.rateShare * 100}%) → ${verdict(share >= TARGETS.rateShare)}`,
        );
        targetLines.push(
          `token lag p99 at N=${n}: ${ms(pipeline.lag[2])} ms (target < ${TARGETS.lagP99Ms}) → ${verdict(pipeline.lag[2] < TARGETS.lagP99Ms)}`,
        );
      }
    }
    out(
      table(
        [
          'N',
          'system',
          'wall s',
          'rate/stream',
          'of stub tps',
          'stub rate',
          'token lag p50/p95/p99',
          'batches/stream',
          'failed',
        ],
        delivery,
      ),
    );
    out(
      '   token lag: per batch, arrival on the client − when the stub sent the last token in it (all batches of all streams)',
    );
  }

  // 4. Open loop.
  const opens = options.rates.map((rate) =>
    pair(specKey({ kind: 'open', rate, durationS: options.durationS, tokens: options.tokens })),
  );
  if (opens.length > 0) {
    out();
    out(
      `4. Open loop: Poisson arrivals (same seeded schedule for both systems), ${options.durationS} s per rate, at most ${options.maxConcurrent} open streams (more arrivals are shed); TTFT ms p50 / p95 / p99`,
    );
    const rows: string[][] = [];
    let best: number | undefined;
    for (const { pipeline, baseline } of opens) {
      const spec = (pipeline ?? baseline)!.spec as { rate: number };
      const added = pipeline && baseline ? diff(pipeline.ttft, baseline.ttft) : undefined;
      const clean =
        !!pipeline && !!baseline && pipeline.failed + pipeline.shed + baseline.failed + baseline.shed === 0;
      const within = !!added && clean && added[1] <= options.targetMs;
      if (within && (best === undefined || spec.rate > best)) best = spec.rate;
      rows.push([
        String(spec.rate),
        pipeline ? `${pipeline.ok}/${pipeline.sent + pipeline.shed}` : '–',
        pipeline ? String(pipeline.peakOpen) : '–',
        baseline ? `${baseline.ok}/${baseline.sent + baseline.shed}` : '–',
        pipeline ? joined(pipeline.ttft) : '–',
        baseline ? joined(baseline.ttft) : '–',
        added ? joined(added) : '–',
        pipeline ? joined(pipeline.lag) : '–',
        added ? (within ? `≤ ${options.targetMs}` : clean ? `> ${options.targetMs}` : 'failures/shed') : '',
      ]);
    }
    out(
      table(
        [
          'rate/s',
          'ok pipe',
          'peak open',
          'ok base',
          'pipeline TTFT',
          'baseline TTFT',
          'added TTFT',
          'pipe lag p50/p95/p99',
          'added p95',
        ],
        rows,
        1,
      ),
    );
    if (options.sweep || opens.length > 1) {
      out(
        `   highest rate with added TTFT p95 ≤ ${options.targetMs} ms and nothing failed or shed: ${best === undefined ? 'none of those run' : `${best} msg/s`}`,
      );
      targetLines.push(
        `open loop: highest rate with added p95 ≤ ${options.targetMs} ms (≤ ${options.maxConcurrent} open): ${best === undefined ? 'none' : `${best} msg/s`} (target: added p95 ≤ ${TARGETS.openLoopAddedP95Ms} ms at the highest rate reachable with ${TARGETS.openLoopConcurrency} open streams)`,
      );
    }
  }

  // 5. CPU.
  out();
  out(
    '5. CPU over each run, seconds (/proc/<pid>/stat utime+stime; redis from INFO; pg = the backends of the pipeline database)',
  );
  const cpuRows: string[][] = [];
  const allKeys = [...new Set(results.map((result) => specKey(result.spec)))];
  for (const key of allKeys) {
    const { pipeline, baseline } = pair(key);
    if (!pipeline || !baseline) continue;
    const workers = pipeline.processes.filter(({ label }) => isWorker(label));
    const services = serviceCpu(pipeline, true);
    const base = serviceCpu(baseline, false);
    cpuRows.push([
      label(pipeline.spec),
      fixed(pipeline.windowMs / 1_000, 2),
      fixed(
        sumCpu(pipeline, (name) => name === 'edge'),
        2,
      ),
      workers.map((figures) => fixed(figures.cpuSeconds, 2)).join(' + '),
      fixed(pipeline.redisCpuSeconds, 2),
      fixed(pipeline.postgresCpuSeconds, 2),
      fixed(services, 2),
      fixed(base, 2),
      ratio(
        sumCpu(pipeline, () => true),
        base,
      ),
      ratio(services, base),
      `${fixed(pipeline.benchCpuSeconds, 2)} / ${fixed(baseline.benchCpuSeconds, 2)}`,
      `${fixed(100 * otherShare(pipeline), 0)}% / ${fixed(100 * otherShare(baseline), 0)}%`,
      `${fixed(100 * busyShare(pipeline), 0)}% / ${fixed(100 * busyShare(baseline), 0)}%`,
      busiest(pipeline),
      [...pipeline.processes, ...baseline.processes]
        .map((figures) => fixed(figures.memory.peakMb, 0))
        .join(' / '),
    ]);
    if (pipeline.spec.kind === 'burst' && pipeline.spec.n === TARGETS.rateN)
      targetLines.push(
        `pipeline CPU / baseline CPU at N=${pipeline.spec.n}: ${ratio(
          sumCpu(pipeline, () => true),
          base,
        )} (edge + worker), ${ratio(services, base)} (+ redis + pg) (target ≤ ${TARGETS.cpuRatio}) → ${verdict(sumCpu(pipeline, () => true) / base <= TARGETS.cpuRatio)} / ${verdict(services / base <= TARGETS.cpuRatio)}`,
      );
  }
  out(
    table(
      [
        'run',
        'window s',
        'edge',
        options.chatWorkers > 1 ? 'workers (each)' : 'worker',
        'redis',
        'pg',
        'pipeline all',
        'baseline server',
        'ratio e+w',
        'ratio all',
        'bench pipe / base',
        'other load pipe / base',
        'machine busy pipe / base',
        'busiest pipeline process (of one core)',
        `peak RSS MiB ${['edge', ...Array.from({ length: options.chatWorkers }, (_, index) => `w${index + 1}`), 'base'].join(' / ')}`,
      ],
      cpuRows,
      1,
    ),
  );
  out(
    '   ratio e+w = (edge + workers) / baseline server; ratio all = (edge + workers + redis + pg) / baseline server;',
  );
  out(
    '   bench = this process (clients + stub), the same work on both sides; other load = CPU nobody measured / all cores;',
  );
  out(`   machine busy = all CPU used on the machine / all ${cores} cores over the run's window`);

  const short = results.find(
    (result) =>
      result.system === 'pipeline' &&
      result.spec.kind === 'cpu' &&
      result.spec.tokens === options.shortTokens,
  );
  const long = results.find(
    (result) =>
      result.system === 'pipeline' && result.spec.kind === 'cpu' && result.spec.tokens === options.tokens,
  );
  if (short && long && short.ok > 0 && long.ok > 0) {
    // Worker CPU per answer c(T) = fixed + T × marginal, from two answer lengths T at the same N;
    // each run's CPU less what the process uses idle over the same window.
    const perAnswer = (result: RunResult) =>
      result.processes
        .filter(({ label }) => isWorker(label))
        .reduce((sum, figures) => sum + figures.cpuSeconds - figures.idleSeconds, 0) / result.ok;
    const cShort = perAnswer(short);
    const cLong = perAnswer(long);
    const marginal = (cLong - cShort) / (options.tokens - options.shortTokens);
    const fixedCost = cShort - options.shortTokens * marginal;
    const ticks = (result: RunResult) => (1 / CLK_TCK / result.ok) * 1_000;
    out();
    out(
      `6. Chat worker CPU split (N=${options.cpuN}, answers of ${options.shortTokens} and ${options.tokens} tokens; all worker processes summed, idle CPU subtracted)`,
    );
    out(
      table(
        ['answer tokens', 'ok', 'worker CPU s', 'idle part s', 'per answer ms', 'per-process CPU s'],
        [short, long].map((result) => {
          const workers = result.processes.filter(({ label }) => isWorker(label));
          return [
            String(result.spec.tokens),
            String(result.ok),
            fixed(
              workers.reduce((sum, figures) => sum + figures.cpuSeconds, 0),
              2,
            ),
            fixed(
              workers.reduce((sum, figures) => sum + figures.idleSeconds, 0),
              3,
            ),
            fixed(perAnswer(result) * 1_000, 2),
            workers.map((figures) => `${figures.label} ${fixed(figures.cpuSeconds, 2)}`).join(', '),
          ];
        }),
        1,
      ),
    );
    out(
      `   solved: c(T) = fixed + T × marginal → fixed ${fixed(fixedCost * 1_000, 2)} ms per answer, marginal ${fixed(marginal * 1e6, 2)} µs per relayed token (one clock tick is ±${fixed(ticks(short), 2)} ms per answer here)`,
    );
    targetLines.push(
      `worker CPU fixed per answer: ${fixed(fixedCost * 1_000, 2)} ms (target ≤ ${TARGETS.fixedMsPerAnswer}) → ${verdict(fixedCost * 1_000 <= TARGETS.fixedMsPerAnswer)}`,
    );
    targetLines.push(
      `worker CPU per relayed token: ${fixed(marginal * 1e6, 2)} µs (target ≤ ${TARGETS.marginalUsPerToken}) → ${verdict(marginal * 1e6 <= TARGETS.marginalUsPerToken)}`,
    );
  }

  // 7. Database round trips.
  if (db) {
    const stats = (values: number[]) => {
      const ordered = sorted(values);
      return values.length
        ? `${percentile(ordered, 50)} (min ${ordered[0]}, max ${ordered[ordered.length - 1]})`
        : '–';
    };
    out();
    out(
      `7. Database round trips per answer, counted on the wire (Query + Sync messages through a proxy in front of Postgres, one for a second edge, one for a fresh chat worker), median (min, max) of ${db.answers} answers sent one at a time after 2 uncounted`,
    );
    out(`   edge, chat:send → ack:              ${stats(db.edgeToAck)}`);
    out(`   edge, chat:send → Groq request:     ${stats(db.edgeBefore)}`);
    out(`   worker, chat:send → Groq request:   ${stats(db.workerBefore)}`);
    out(`   worker, job active → Groq request:  ${stats(db.afterActive)}`);
    out(`   edge + worker, whole answer (to chat:done + 300 ms): ${stats(db.whole)}`);
    out("   the last answer's statements before its Groq request:");
    for (const trip of db.sample)
      out(`     ${trip.kind} ${trip.sql.replace(/\s+/g, ' ').slice(0, 120) || '(prepared statement)'}`);
    const median = (values: number[]) => percentile(sorted(values), 50);
    targetLines.push(
      `database round trips before the Groq request: worker ${median(db.workerBefore)}, edge ${median(db.edgeBefore)} (target ≤ ${TARGETS.dbRoundTrips}; the worker's path) → ${verdict(median(db.workerBefore) <= TARGETS.dbRoundTrips)}`,
    );
  }

  // Problems and interference.
  out();
  const problems = results.filter((result) => result.problems.length > 0);
  if (problems.length === 0)
    out('Errors: none (every stream ended with chat:done and the exact stub answer).');
  for (const result of problems)
    out(`Errors, ${result.system} ${label(result.spec)}: ${result.problems.join('; ')}`);
  const disturbed = results.filter((result) => otherShare(result) > DISTURBED_SHARE);
  if (disturbed.length === 0)
    out(
      `Interference: none to speak of (other CPU ≤ ${DISTURBED_SHARE * 100}% of the machine in every run).`,
    );
  for (const result of disturbed)
    out(
      `Interference, ${result.system} ${label(result.spec)}: other processes used ${fixed(result.otherCpuSeconds, 2)} CPU s = ${fixed(100 * otherShare(result), 0)}% of the machine (steal ${fixed(result.stealSeconds, 2)} s): figures are disturbed.`,
    );

  out();
  out('Targets (from the issue)');
  for (const line of targetLines) out(`  ${line}`);
  if (targetLines.length === 0) out('  none of the runs the targets name were made');
  out(`total time: ${fixed((performance.now() - startedAt) / 1_000, 1)} s`);
}

// ---- main ----

async function main(): Promise<void> {
  const startedAt = performance.now();
  if (options.redis === 'cluster') {
    const named = process.env.REDIS_CLUSTER_NODES;
    const cluster = named ? undefined : await PrivateCluster.start();
    if (cluster) cleanups.add('private redis cluster', () => cluster.stop());
    redisEnv = { REDIS_CLUSTER_NODES: named ?? cluster!.nodeList };
    const nodes = loadConfig({ ...redisEnv }).redis.clusterNodes!;
    redis = new Cluster(nodes, { redisOptions: { maxRetriesPerRequest: 1 } });
    await once(redis, 'ready');
  } else {
    const single = new Redis(TEST_REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await single.connect();
    redis = single;
  }
  cleanups.add('redis', () => redis.quit());
  progress(`redis: ${options.redis}`);
  const results: RunResult[] = [];
  progress(
    `relay benchmark: bursts ${options.streams.join(',') || 'none'}, rates ${options.rates.join(',') || 'none'}, CPU split N=${options.cpuN}, ${options.chatWorkers} chat worker(s); stub ${options.tps} tok/s, ${options.tokens} tokens, ttft ${options.ttftMs} ms`,
  );
  const { env, db } = await runPipeline(results);
  await runBaseline(results);
  const settings = loadConfig({ ...process.env, ...env }).stream;
  report(results, db, settings, startedAt);
}

await cleanups.run(main);
