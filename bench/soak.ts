/**
 * Multi-node soak: 3 edges and 4 workers (3 chat, 1 ingest + maintenance) as separate processes on
 * a throwaway database (optionally through a private PgBouncer in transaction pooling mode) and
 * Redis, N users chatting, uploading and reconnecting, while a random worker is killed (-9) and
 * an edge restarted (SIGTERM, started again) at intervals. Prints what happened to every answer,
 * and exits non-zero when a target is missed.
 *
 *   npm run soak -- [--duration 120] [--users 20] [--pgbouncer] [--redis single|cluster]
 *                   [--kill-every 20] [--restart-every 30] [--grace 180]
 *
 * --redis cluster points every process at REDIS_CLUSTER_NODES (host:port,...; from the
 * environment) instead of REDIS_URL; single (the default) uses TEST_REDIS_URL or the local Redis.
 *
 * Targets: 0 answers lost (accepted but not complete/failed/cancelled in the database within
 * --grace seconds after the run), 0 duplicated (a seq delivered with two different texts, two
 * terminal events that disagree, or the model asked to answer one message to the end twice),
 * 100 % exact resumes (after a disconnect mid-answer and chat:resume on another edge, the text the
 * client assembled equals the stored content), and no process growing more than 10 % in RSS over
 * the second half of the run (a restarted process counts from WARM_UP_MS after its restart).
 *
 * Talks to 127.0.0.1 only; removes its database, PgBouncer, keys and processes at the end and on
 * Ctrl-C.
 */
import { randomInt } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Queue } from 'bullmq';
import { Cluster, Redis } from 'ioredis';
import pg from 'pg';
import { io, type Socket } from 'socket.io-client';
import type { ChatDone, ChatErrorEvent, ChatToken, DocumentProgress } from '../src/relay/events.ts';
import { ApiClient, type Session } from '../test/support/ApiClient.ts';
import { GroqStub } from '../test/support/GroqStub.ts';
import { PrivatePgBouncer } from '../test/support/privatePgBouncer.ts';
import {
  createTestDatabase,
  dropTestDatabases,
  TEST_EMBEDDING_ENV,
  TEST_JWT_SECRET,
  TEST_REDIS_URL,
  uniqueQueuePrefix,
} from '../test/support/services.ts';
import { keysUnder } from '../test/support/testKeys.ts';
import { Cleanups, integerFlag, machineFacts, requireLocal } from './support/cleanup.ts';
import { memory } from './support/proc.ts';
import { freePort, ServiceProcess, waitForHttp } from './support/ServiceProcess.ts';
import { fixed, percentile, sorted, table } from './support/stats.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const STUB = { ttftMs: 50, tokensPerSecond: 100, answerTokens: 60 };
const MEMORY_SAMPLE_MS = 3_000;
/** A (re)started process's own start-up growth (JIT, caches, the embedding model) is not a leak. */
const WARM_UP_MS = 15_000;
/** A window shorter than this says nothing about growth: reported, not judged. */
const MIN_WINDOW_MS = 30_000;
/** A killed worker's job comes back after this (lockDuration = stalledInterval = JOB_LOCK_MS). */
const JOB_LOCK_MS = 5_000;
const ACTION_TIMEOUT_MS = 60_000;
const TARGETS = { lost: 0, duplicated: 0, exactResumeShare: 1, rssGrowth: 0.1 };

const { values: flags } = parseArgs({
  options: {
    duration: { type: 'string', default: '120' },
    users: { type: 'string', default: '20' },
    pgbouncer: { type: 'boolean', default: false },
    redis: { type: 'string', default: 'single' },
    'kill-every': { type: 'string', default: '20' },
    'restart-every': { type: 'string', default: '30' },
    // Stuck answers are ended by the sweep (every minute, after 2 minutes untouched): wait for it.
    grace: { type: 'string', default: '180' },
  },
});
const options = {
  durationMs: integerFlag('duration', flags.duration, 10, 86_400) * 1_000,
  users: integerFlag('users', flags.users, 1, 500),
  pgbouncer: flags.pgbouncer,
  redis: flags.redis,
  killEveryMs: integerFlag('kill-every', flags['kill-every'], 1) * 1_000,
  restartEveryMs: integerFlag('restart-every', flags['restart-every'], 1) * 1_000,
  graceMs: integerFlag('grace', flags.grace, 1) * 1_000,
};
if (!['single', 'cluster'].includes(options.redis)) {
  console.error(`--redis: expected single or cluster, got "${options.redis}"`);
  process.exit(2);
}
const clusterNodes = process.env.REDIS_CLUSTER_NODES ?? '';
if (options.redis === 'cluster' && !clusterNodes) {
  console.error('--redis cluster: set REDIS_CLUSTER_NODES=host:port,... (e.g. from scripts/redisCluster.sh)');
  process.exit(2);
}
requireLocal({
  REDIS: options.redis === 'cluster' ? `redis://${clusterNodes.split(',')[0]}` : TEST_REDIS_URL,
});

const progress = (message: string) =>
  console.error(`[soak ${new Date().toISOString().slice(11, 19)}] ${message}`);
const pick = <T>(items: readonly T[]): T => items[randomInt(items.length)]!;

// ------------------------------------------------------------------ processes

const unexpectedExits: string[] = [];

interface Incarnation {
  label: string;
  pid: number;
  startedAt: number;
  samples: { at: number; rssMb: number }[];
}

/** One of the 7 process slots; `restart` replaces its process and starts a new incarnation. */
class Slot {
  readonly name: string;
  readonly kind: 'edge' | 'worker';
  current!: ServiceProcess;
  readonly incarnations: Incarnation[] = [];
  /** False while it is being killed or restarted: clients don't pick an edge that is going away. */
  up = false;
  private readonly env: Record<string, string>;
  private readonly port?: number;

  constructor(name: string, kind: 'edge' | 'worker', env: Record<string, string>, port?: number) {
    this.name = name;
    this.kind = kind;
    this.env = env;
    this.port = port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const script = this.kind === 'edge' ? 'src/web.ts' : 'workers/index.ts';
    const env =
      this.kind === 'edge'
        ? { ...this.env, PORT: String(this.port), HOST: '127.0.0.1', LOG_LEVEL: 'warn' }
        : this.env;
    const child = new ServiceProcess(`${this.name}#${this.incarnations.length + 1}`, script, env, ROOT);
    this.current = child;
    const started =
      this.kind === 'edge'
        ? waitForHttp(`${this.url}/health`, 60_000)
        : child.waitForLine((line) => line.includes('"workers started"'), 60_000);
    await Promise.race([started, child.failOnExit()]);
    // An exit nobody asked for (not `stop`) is a crash: reported, and a target missed.
    void child.exited.then(({ code, signal }) => {
      if (this.current === child && this.up)
        unexpectedExits.push(`${child.name} exited (code ${code}, signal ${signal})`);
    });
    this.incarnations.push({ label: child.name, pid: child.pid, startedAt: performance.now(), samples: [] });
    this.up = true;
  }

  async stop(signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
    this.up = false;
    if (signal === 'SIGKILL') {
      this.current.process.kill('SIGKILL');
      await this.current.exited;
    } else await this.current.stop();
  }

  sample(at: number): void {
    const incarnation = this.incarnations.at(-1);
    if (!incarnation || !this.current.running) return;
    try {
      incarnation.samples.push({ at, rssMb: memory(this.current.pid).rssMb });
    } catch {
      // exited between the check and the read
    }
  }
}

// ------------------------------------------------------------------ what the clients saw

interface AnswerRecord {
  messageId: string;
  marker: string;
  user: number;
  sentAt: number;
  firstTokenAt?: number;
  tokens: Map<number, string>;
  /** A seq that arrived again with a different text. */
  conflicts: number;
  terminals: { status: string; content?: string }[];
  done?: ChatDone;
  error?: ChatErrorEvent;
  resumed: boolean;
  /** chat:send emits until one was acked (an edge going away loses the ack; the retry is idempotent). */
  sendAttempts: number;
}

const answers = new Map<string, AnswerRecord>();
const documents = new Map<string, { user: number; settled?: string }>();
const failedSends: string[] = [];
const waiters = new Set<() => void>();
const notify = () => {
  for (const waiter of [...waiters]) waiter();
};
/** Resolves when `condition` holds (checked on every client event), or false after `timeoutMs`. */
function until(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  if (condition()) return Promise.resolve(true);
  return new Promise((resolve) => {
    const check = () => {
      if (!condition()) return;
      finish(true);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    const finish = (result: boolean) => {
      clearTimeout(timer);
      waiters.delete(check);
      resolve(result);
    };
    waiters.add(check);
  });
}
const ended = (record: AnswerRecord) => record.terminals.length > 0;
const lastSeq = (record: AnswerRecord) => {
  let seq = 0;
  while (record.tokens.has(seq + 1)) seq += 1;
  return seq;
};
const assembled = (record: AnswerRecord) =>
  [...record.tokens.keys()]
    .sort((a, b) => a - b)
    .map((seq) => record.tokens.get(seq))
    .join('');

/** One user: one socket at a time, to a random live edge; reconnects and resumes when it drops. */
class SoakUser {
  readonly index: number;
  readonly session: Session;
  readonly conversationId: string;
  socket?: Socket;
  /** The edge `socket` is connected to. */
  edgeUrl?: string;
  sent = 0;
  reconnects = 0;
  /** What the user is doing now, to say where a stuck one hangs. */
  doing = 'starting';
  lastEmitAttempts = 0;
  private readonly edges: Slot[];
  private connecting?: Promise<void>;
  private stopped = false;

  constructor(index: number, session: Session, conversationId: string, edges: Slot[]) {
    this.index = index;
    this.session = session;
    this.conversationId = conversationId;
    this.edges = edges;
  }

  /** Connects to a live edge other than `avoid`; retries until one takes it. */
  connect(avoid?: string): Promise<void> {
    this.connecting ??= (async () => {
      for (let attempt = 0; !this.stopped; attempt += 1) {
        const live = this.edges.filter((edge) => edge.up && edge.url !== avoid);
        const edge = pick(live.length > 0 ? live : this.edges.filter((candidate) => candidate.up));
        if (!edge) {
          await sleep(200);
          continue;
        }
        const socket = io(edge.url, {
          transports: ['websocket'],
          reconnection: false,
          auth: { token: this.session.accessToken },
        });
        const connected = await new Promise<boolean>((resolve) => {
          socket.once('connect', () => resolve(true));
          socket.once('connect_error', () => resolve(false));
        });
        if (!connected) {
          socket.close();
          await sleep(100 * Math.min(attempt + 1, 10));
          continue;
        }
        this.listen(socket, edge.url);
        this.socket = socket;
        this.edgeUrl = edge.url;
        return;
      }
    })().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  /** Resumes every unfinished answer of this user from the last seq it holds. */
  async resumeAll(): Promise<void> {
    const open = [...answers.values()].filter((record) => record.user === this.index && !ended(record));
    for (const record of open) {
      record.resumed = true;
      await this.emit('chat:resume', { messageId: record.messageId, afterSeq: lastSeq(record) });
    }
  }

  async run(endAt: number): Promise<void> {
    await this.connect();
    while (performance.now() < endAt && !this.stopped) {
      const roll = randomInt(100);
      this.doing = roll < 10 ? 'upload' : roll < 30 ? 'chat with a disconnect' : 'chat';
      if (roll < 10) await this.upload();
      else await this.chat(roll < 30);
      this.doing = 'idle';
      await sleep(200 + randomInt(600));
    }
  }

  close(): void {
    this.stopped = true;
    this.socket?.close();
  }

  private async chat(disconnectMidAnswer: boolean): Promise<void> {
    if (!this.socket?.connected) await this.connect();
    this.sent += 1;
    const marker = `soak u${this.index} m${this.sent}`;
    const sentAt = performance.now();
    const [error, result] = await this.emit<{ assistantMessageId: string }>('chat:send', {
      conversationId: this.conversationId,
      content: `${marker}: tell me something`,
      clientMessageId: `${marker}-${sentAt}`,
    });
    if (error || !result) {
      failedSends.push(`${marker}: ${error?.code ?? 'no ack'}`);
      return;
    }
    const record = recordFor(result.assistantMessageId, this.index);
    record.marker = marker;
    record.sendAttempts = this.lastEmitAttempts;
    record.sentAt = sentAt;
    if (disconnectMidAnswer) {
      await until(() => record.tokens.size >= 3 || ended(record), ACTION_TIMEOUT_MS);
      if (!ended(record)) {
        // A client-side close: the 'disconnect' handler leaves it to us to reconnect elsewhere.
        this.socket?.close();
        await this.reconnect(this.edgeUrl);
      }
    }
    await until(() => ended(record), ACTION_TIMEOUT_MS);
  }

  private async upload(): Promise<void> {
    const live = this.edges.filter((edge) => edge.up);
    const url = pick(live.length > 0 ? live : this.edges).url;
    const text = `# Notes ${this.index}-${this.sent}\n\nThe soak wrote this note for user ${this.index}. ${'Lantern harbour copper meadow. '.repeat(20)}\n`;
    try {
      const form = new FormData();
      form.append('file', new Blob([text]), `note-${this.index}-${this.sent}.md`);
      // A deadline: an upload caught by its edge's restart must not hold the user for ever.
      const response = await fetch(`${url}/api/v1/documents`, {
        method: 'POST',
        headers: { authorization: `Bearer ${this.session.accessToken}` },
        body: form,
        signal: AbortSignal.timeout(ACTION_TIMEOUT_MS),
      });
      const body = (await response.json()) as { id: string };
      if (response.status !== 202) return;
      const id = body.id;
      documents.set(id, { user: this.index });
      await until(() => documents.get(id)?.settled !== undefined, 30_000);
    } catch {
      // an edge going away mid-upload: nothing was accepted
    }
  }

  private async reconnect(from?: string): Promise<void> {
    this.reconnects += 1;
    this.doing += ' → reconnect';
    await this.connect(from);
    this.doing += ' → resume';
    await this.resumeAll();
  }

  private listen(socket: Socket, url: string): void {
    socket.on('chat:token', (event: ChatToken) => {
      const record = recordFor(event.messageId, this.index);
      const seen = record.tokens.get(event.seq);
      if (seen === undefined) record.tokens.set(event.seq, event.delta);
      else if (seen !== event.delta) record.conflicts += 1;
      if (event.seq === 1 && record.firstTokenAt === undefined) record.firstTokenAt = performance.now();
      notify();
    });
    socket.on('chat:done', (event: ChatDone) => {
      const record = recordFor(event.messageId, this.index);
      record.done = event;
      record.terminals.push({ status: event.status, content: event.content });
      notify();
    });
    socket.on('chat:error', (event: ChatErrorEvent) => {
      const record = recordFor(event.messageId, this.index);
      record.error = event;
      record.terminals.push({ status: 'failed' });
      notify();
    });
    socket.on('document:progress', (event: DocumentProgress) => {
      const document = documents.get(event.documentId);
      if (document && ['ready', 'failed'].includes(event.status)) document.settled = event.status;
      notify();
    });
    // The server went away (an edge restarting): connect to another edge and resume.
    socket.on('disconnect', (reason) => {
      if (reason === 'io client disconnect' || this.stopped) return;
      void this.reconnect(url);
    });
  }

  private async emit<Result>(event: string, payload: unknown): Promise<[{ code: string } | null, Result?]> {
    for (let attempt = 0; attempt < 6 && !this.stopped; attempt += 1) {
      this.lastEmitAttempts = attempt + 1;
      if (!this.socket?.connected) await this.connect();
      // Both ack arguments, `(error, result)`; no ack in time (the edge went away) → try again:
      // the same clientMessageId makes a repeated send safe.
      const answer = await new Promise<[{ code: string } | null, Result?] | undefined>((resolve) => {
        this.socket!.timeout(10_000).emit(
          event,
          payload,
          (timedOut: Error | null, error: { code: string } | null, result?: Result) =>
            resolve(timedOut ? undefined : [error, result]),
        );
      });
      if (answer) return answer;
    }
    return [{ code: 'no_ack' }];
  }
}

function recordFor(messageId: string, user: number): AnswerRecord {
  let record = answers.get(messageId);
  if (!record) {
    record = {
      messageId,
      marker: '',
      user,
      sentAt: performance.now(),
      tokens: new Map(),
      conflicts: 0,
      terminals: [],
      resumed: false,
      sendAttempts: 0,
    };
    answers.set(messageId, record);
  }
  return record;
}

// ------------------------------------------------------------------ the run

const cleanups = new Cleanups('soak');

await cleanups.run(async () => {
  progress(machineFacts());
  const stub = await GroqStub.start(STUB);
  cleanups.add('stub', () => stub.close());
  const directUrl = await createTestDatabase('soak');
  cleanups.add('database', () => dropTestDatabases());
  let databaseUrl = directUrl;
  if (options.pgbouncer) {
    // Sized like a deployment would be: fewer server connections than the processes' pools.
    const bouncer = await PrivatePgBouncer.start({ poolSize: 20 });
    cleanups.add('pgbouncer', () => bouncer.stop());
    databaseUrl = bouncer.urlFor(directUrl);
    progress(`PgBouncer (transaction pooling, 20 server connections) on port ${bouncer.port}`);
  }
  const prefix = uniqueQueuePrefix('soak');
  cleanups.add('redis keys', () => removeKeys(prefix));

  const redisEnv: Record<string, string> =
    options.redis === 'cluster' ? { REDIS_CLUSTER_NODES: clusterNodes } : { REDIS_URL: TEST_REDIS_URL };
  const env: Record<string, string> = {
    PARLEY_ENV_FILE: '',
    ...TEST_EMBEDDING_ENV,
    ...redisEnv,
    DATABASE_URL: databaseUrl,
    QUEUE_PREFIX: prefix,
    JWT_SECRET: TEST_JWT_SECRET,
    LOG_LEVEL: 'info',
    GROQ_API_KEY: 'soak-key',
    GROQ_BASE_URL: stub.baseURL,
    JOB_LOCK_MS: String(JOB_LOCK_MS),
    STREAM_FLUSH_MS: '20',
    RATE_LIMIT_MESSAGES: '1000000/1m',
    RATE_LIMIT_UPLOADS: '100000/1h',
    RATE_LIMIT_AUTH: '100000/1m',
    SHUTDOWN_TIMEOUT_MS: '10000',
  };

  // Migrations once, before anything starts, so seven processes don't race to apply them.
  const migrate = new ServiceProcess('migrate', 'src/migrate.ts', env, ROOT);
  const migrated = await migrate.exited;
  if (migrated.code !== 0) throw new Error(`migrate failed:\n${migrate.tail.join('\n')}`);

  const edges = await Promise.all(
    ['edge1', 'edge2', 'edge3'].map(async (name) => new Slot(name, 'edge', env, await freePort())),
  );
  const workers = [
    new Slot('chat1', 'worker', { ...env, WORKER_QUEUES: 'chat' }),
    new Slot('chat2', 'worker', { ...env, WORKER_QUEUES: 'chat' }),
    new Slot('chat3', 'worker', { ...env, WORKER_QUEUES: 'chat' }),
    new Slot('ingest', 'worker', { ...env, WORKER_QUEUES: 'ingest,maintenance' }),
  ];
  const slots = [...edges, ...workers];
  cleanups.add('processes', () => Promise.all(slots.map((slot) => slot.current?.stop())));
  for (const slot of slots) await slot.start();
  progress(`started ${slots.map((slot) => `${slot.name}=${slot.current.pid}`).join(' ')}`);

  const api = new ApiClient(edges[0]!.url);
  const users: SoakUser[] = [];
  for (let index = 0; index < options.users; index += 1) {
    const session = await api.signup(`soak${index}`);
    const conversation = await api.request('POST', '/api/v1/conversations', {
      token: session.accessToken,
      body: { title: `soak ${index}` },
    });
    users.push(new SoakUser(index, session, conversation.body.id, edges));
  }
  cleanups.add('clients', () => {
    for (const user of users) user.close();
  });

  const startedAt = performance.now();
  const endAt = startedAt + options.durationMs;
  const midpoint = startedAt + options.durationMs / 2;
  const sampler = setInterval(() => {
    const at = performance.now();
    for (const slot of slots) slot.sample(at);
  }, MEMORY_SAMPLE_MS);
  cleanups.add('sampler', () => clearInterval(sampler));
  for (const slot of slots) slot.sample(startedAt);

  const faults: string[] = [];
  const faultLoop = (async () => {
    let nextKill = startedAt + options.killEveryMs;
    let nextRestart = startedAt + options.restartEveryMs;
    while (performance.now() < endAt - 5_000) {
      const now = performance.now();
      if (now >= nextKill) {
        nextKill += options.killEveryMs;
        const victim = pick(workers);
        const pid = victim.current.pid;
        await victim.stop('SIGKILL');
        await victim.start();
        faults.push(`kill -9 ${victim.name} (${pid}) → ${victim.current.pid}`);
        progress(faults.at(-1)!);
      } else if (now >= nextRestart) {
        nextRestart += options.restartEveryMs;
        const edge = pick(edges);
        const pid = edge.current.pid;
        await edge.stop('SIGTERM');
        await edge.start();
        faults.push(`restart ${edge.name} (${pid}) → ${edge.current.pid}`);
        progress(faults.at(-1)!);
      } else await sleep(Math.min(nextKill, nextRestart) - now);
    }
  })();

  progress(`${options.users} users for ${options.durationMs / 1_000} s`);
  // Users finish the action they are in; one that is still busy well after is stuck (reported).
  const finished = new Set<SoakUser>();
  await Promise.race([
    Promise.all([...users.map((user) => user.run(endAt).finally(() => finished.add(user))), faultLoop]),
    sleep(options.durationMs + 2 * ACTION_TIMEOUT_MS, undefined, { ref: false }),
  ]);
  const stuckUsers = users.length - finished.size;
  for (const user of users.filter((candidate) => !finished.has(candidate)))
    progress(
      `user ${user.index} still busy: ${user.doing}, socket ${user.socket?.connected ? 'connected' : 'down'}`,
    );
  clearInterval(sampler);

  // Grace: every accepted answer must be terminal in the database.
  progress(`run over; waiting up to ${options.graceMs / 1_000} s for every answer to end`);
  const db = new pg.Client({ connectionString: directUrl });
  await db.connect();
  cleanups.add('db client', () => db.end());
  const accepted = [...answers.values()].filter((record) => record.marker !== '');
  const ids = accepted.map((record) => record.messageId);
  const stored = async () =>
    new Map(
      (
        await db.query<{ id: string; status: string; content: string }>(
          'select id, status, content from messages where id = any($1)',
          [ids],
        )
      ).rows.map((row) => [row.id, row]),
    );
  const terminal = new Set(['complete', 'failed', 'cancelled']);
  let rows = await stored();
  const graceEnd = performance.now() + options.graceMs;
  while ([...rows.values()].some((row) => !terminal.has(row.status)) && performance.now() < graceEnd) {
    await sleep(1_000);
    rows = await stored();
  }
  const documentRows = new Map(
    (
      await db.query<{ id: string; status: string }>('select id, status from documents where id = any($1)', [
        [...documents.keys()],
      ])
    ).rows.map((row) => [row.id, row.status]),
  );
  for (const user of users) user.close();

  // ---------------------------------------------------------------- figures
  const byStatus = new Map<string, number>();
  let lost = 0;
  for (const record of accepted) {
    const status = rows.get(record.messageId)?.status ?? 'missing';
    byStatus.set(status, (byStatus.get(status) ?? 0) + 1);
    if (!terminal.has(status)) lost += 1;
  }
  const completedByMarker = new Map<string, number>();
  for (const request of stub.requests) {
    const last = String(request.body.messages.at(-1)?.content ?? '');
    const marker = /^(soak u\d+ m\d+):/.exec(last)?.[1];
    if (marker && request.status === 'completed')
      completedByMarker.set(marker, (completedByMarker.get(marker) ?? 0) + 1);
  }
  const duplicated = accepted.filter((record) => {
    const disagreeing =
      new Set(record.terminals.map((end) => `${end.status}\u0000${end.content ?? ''}`)).size > 1;
    return record.conflicts > 0 || disagreeing || (completedByMarker.get(record.marker) ?? 0) > 1;
  });
  const resumes = accepted.filter((record) => record.resumed);
  const inexact = resumes.filter((record) => {
    const row = rows.get(record.messageId);
    if (!row || !ended(record)) return true;
    const text = assembled(record);
    const gapFree = lastSeq(record) === record.tokens.size;
    return (
      !gapFree || text !== row.content || (record.done !== undefined && record.done.content !== row.content)
    );
  });
  const addedTtft = sorted(
    accepted
      .filter((record) => record.firstTokenAt !== undefined)
      .map((record) => record.firstTokenAt! - record.sentAt - STUB.ttftMs),
  );
  const documentsLost = [...documents.keys()].filter(
    (id) => !['ready', 'failed'].includes(documentRows.get(id) ?? ''),
  ).length;

  const memoryRows: string[][] = [];
  let growing = 0;
  let judged = 0;
  for (const slot of slots) {
    for (const incarnation of slot.incarnations) {
      const from = Math.max(midpoint, incarnation.startedAt + WARM_UP_MS);
      // Up to the end of the load: the last users' waits afterwards are not the run.
      const window = incarnation.samples.filter((sample) => sample.at >= from && sample.at <= endAt);
      const span = window.length > 1 ? window.at(-1)!.at - window[0]!.at : 0;
      if (span < MIN_WINDOW_MS) {
        memoryRows.push([incarnation.label, String(incarnation.pid), '–', '–', '–', '–', 'too short']);
        continue;
      }
      // RSS follows the garbage collector's sawtooth (tens of % either way within a minute), so
      // growth is judged on the envelope: the peak of the window's last quarter against the peak
      // of its first. A leak raises the peaks; a collection that happens to land late does not.
      // The medians' change is printed next to it.
      const quarter = Math.max(3, Math.floor(window.length / 4));
      const rss = (samples: typeof window) => sorted(samples.map((sample) => sample.rssMb));
      const head = rss(window.slice(0, quarter));
      const tail = rss(window.slice(-quarter));
      const peakGrowth = (percentile(tail, 100) - percentile(head, 100)) / percentile(head, 100);
      const medianGrowth = (percentile(tail, 50) - percentile(head, 50)) / percentile(head, 50);
      judged += 1;
      if (peakGrowth > TARGETS.rssGrowth) growing += 1;
      memoryRows.push([
        incarnation.label,
        String(incarnation.pid),
        fixed(percentile(head, 100)),
        fixed(percentile(tail, 100)),
        `${fixed(peakGrowth * 100)} %`,
        `${fixed(medianGrowth * 100)} %`,
        `${fixed(span / 1_000, 0)} s`,
      ]);
    }
  }

  const exactShare = resumes.length === 0 ? 1 : (resumes.length - inexact.length) / resumes.length;
  const misses = [
    lost > TARGETS.lost && `${lost} answer(s) lost`,
    duplicated.length > TARGETS.duplicated && `${duplicated.length} answer(s) duplicated`,
    exactShare < TARGETS.exactResumeShare && `${inexact.length} inexact resume(s)`,
    growing > 0 && `${growing} process(es) grew > ${TARGETS.rssGrowth * 100} %`,
    stuckUsers > 0 && `${stuckUsers} client(s) stuck`,
    unexpectedExits.length > 0 && `unexpected exits: ${unexpectedExits.join('; ')}`,
    resumes.length === 0 && 'no resume happened (nothing was proved)',
    judged === 0 &&
      `no process ran long enough to judge its memory (run longer than ${(2 * (WARM_UP_MS + MIN_WINDOW_MS)) / 1_000} s)`,
  ].filter(Boolean) as string[];

  const out = [
    '',
    `soak: ${options.durationMs / 1_000} s, ${options.users} users, 3 edges + 4 workers (3 chat, 1 ingest+maintenance), Postgres ${options.pgbouncer ? 'through PgBouncer (transaction pooling)' : 'direct'}, Redis ${options.redis}`,
    `stub: ttft ${STUB.ttftMs} ms, ${STUB.tokensPerSecond} tokens/s, ${STUB.answerTokens} tokens per answer; JOB_LOCK_MS=${JOB_LOCK_MS}`,
    `faults: ${faults.length} (${faults.filter((f) => f.startsWith('kill')).length} worker kills, ${faults.filter((f) => f.startsWith('restart')).length} edge restarts)`,
    '',
    `answers accepted: ${accepted.length} (sends refused: ${failedSends.length})`,
    `terminal:         ${accepted.length - lost} (${[...byStatus].map(([status, n]) => `${status} ${n}`).join(', ')})`,
    `duplicated:       ${duplicated.length}   target 0`,
    `lost:             ${lost}   target 0 (not terminal ${options.graceMs / 1_000} s after the run)`,
    `resumes exact:    ${resumes.length - inexact.length}/${resumes.length} (${fixed(exactShare * 100)} %)   target 100 %; client reconnects: ${users.reduce((sum, user) => sum + user.reconnects, 0)}`,
    `added TTFT:       p50 ${fixed(percentile(addedTtft, 50))} ms, p95 ${fixed(percentile(addedTtft, 95))} ms, max ${fixed(percentile(addedTtft, 100))} ms (send → first token minus the stub's ${STUB.ttftMs} ms; ${addedTtft.length} answers)`,
    `clients stuck:    ${stuckUsers} (a user loop still busy ${(2 * ACTION_TIMEOUT_MS) / 1_000} s after the run)`,
    `documents:        ${documents.size} uploaded, ${[...documentRows.values()].filter((s) => s === 'ready').length} ready, ${[...documentRows.values()].filter((s) => s === 'failed').length} failed, ${documentsLost} not settled`,
    '',
    `RSS over the second half (each process from max(midpoint, its start + ${WARM_UP_MS / 1_000} s) to the end of the load, sampled every ${MEMORY_SAMPLE_MS / 1_000} s; peaks of the first and last quarter; target: peak growth ≤ ${TARGETS.rssGrowth * 100} %):`,
    table(
      ['process', 'pid', 'first peak MiB', 'last peak MiB', 'peak growth', 'median growth', 'window'],
      memoryRows,
      1,
    ),
    '',
    misses.length === 0 ? 'TARGETS MET' : `TARGETS MISSED: ${misses.join('; ')}`,
  ];
  process.stdout.write(`${out.join('\n')}\n`);
  const lostRecords = accepted.filter((record) => !terminal.has(rows.get(record.messageId)?.status ?? ''));
  const chatQueue =
    options.redis === 'single'
      ? new Queue('chat', { connection: { url: TEST_REDIS_URL }, prefix })
      : undefined;
  for (const record of [...lostRecords, ...duplicated, ...inexact].slice(0, 10)) {
    const jobState = chatQueue ? await chatQueue.getJobState(record.messageId) : '?';
    console.error(
      `detail ${record.marker} ${record.messageId}: job ${jobState}, send attempts ${record.sendAttempts}, resumed ${record.resumed}, conflicts ${record.conflicts}, terminals ${JSON.stringify(record.terminals.map((t) => t.status))}, stub completions ${completedByMarker.get(record.marker) ?? 0}, seqs ${record.tokens.size}/${lastSeq(record)}, stored ${rows.get(record.messageId)?.status}`,
    );
  }
  await chatQueue?.close();
  if (misses.length > 0) process.exitCode = 1;
});

/** Removes the run's keys: on one Redis, or on every master of the cluster (keys are single-slot). */
async function removeKeys(prefix: string): Promise<void> {
  if (options.redis === 'cluster') {
    const cluster = new Cluster(
      clusterNodes
        .split(',')
        .map((node) => ({ host: node.split(':')[0]!, port: Number(node.split(':')[1]) })),
    );
    try {
      for (const node of cluster.nodes('master')) {
        for (const key of await keysUnder(node, prefix)) await cluster.unlink(key);
      }
    } finally {
      cluster.disconnect();
    }
    return;
  }
  const redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 });
  try {
    for (const key of await keysUnder(redis, prefix)) await redis.unlink(key);
  } finally {
    redis.disconnect();
  }
}
