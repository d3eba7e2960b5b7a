/**
 * Ingest benchmark: a generated corpus of text PDFs through the whole pipeline (edge and an ingest
 * worker as child processes, Postgres, Redis: upload → parse → chunk → embed → store → ready) next
 * to a baseline: the raw embedder (EmbedderPool, same model, dtype, batch size and threads) on
 * exactly the chunk texts the pipeline embeds. Chunks per second for both, their ratio, the
 * worker's CPU and peak memory. Prints figures, asserts nothing. The baseline runs first, alone;
 * the pipeline's processes start after it has finished.
 *
 *   node bench/ingest.ts [--pages 200] [--documents 8] [--model-dir DIR] [--model NAME]
 *     [--dtype fp32|q8] [--threads 1] [--batch 32] [--chunk-tokens 240] [--overlap 0.15]
 *     [--concurrency 1] [--timeout 900] [--seed 7]
 *
 * Model defaults: the production default, EMBEDDING_MODEL (Xenova/all-MiniLM-L6-v2) with
 * EMBEDDING_DTYPE (q8), from the folder `npm run models:pull` fills (MODELS_DIR if set, else
 * MODELS_CACHE_DIR, else DATA_DIR/models), so every user benchmarks the model they run. When it is
 * missing the bench says how to get it and exits 2. --model-dir and --model take any local folder
 * holding <model>/, e.g. the tiny test model: --model-dir test/fixtures/models --model tiny-bert-embed.
 * --threads, --batch, --chunk-tokens, --overlap and --concurrency become EMBEDDING_THREADS,
 * EMBEDDING_BATCH_SIZE, CHUNK_TOKENS, CHUNK_OVERLAP and INGEST_CONCURRENCY for the worker and the
 * edge, and the same settings for the baseline.
 *
 * Talks to 127.0.0.1 only; starts and stops everything it uses (a throwaway database, a private
 * queue prefix in Redis, two child processes).
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { io, type Socket } from 'socket.io-client';
import { ConfigError, loadConfig } from '../src/config.ts';
import { createEmbedder } from '../src/embeddings/EmbedderPool.ts';
import { chunkDocument, type TextChunk } from '../src/ingest/chunker.ts';
import { parseDocument } from '../src/ingest/parseDocument.ts';
import { createLogger } from '../src/logger.ts';
import type { DocumentProgress } from '../src/relay/events.ts';
import { ApiClient } from '../test/support/ApiClient.ts';
import { makeTextPdf } from '../test/support/pdfFactory.ts';
import {
  createTestDatabase,
  dropTestDatabases,
  TEST_DATABASE_ADMIN_URL,
  TEST_JWT_SECRET,
  TEST_REDIS_URL,
  uniqueQueuePrefix,
} from '../test/support/services.ts';
import {
  Cleanups,
  integerFlag,
  loadAverage,
  machineFacts,
  nproc,
  numberFlag,
  requireLocal,
} from './support/cleanup.ts';
import { prose, Random, Vocabulary } from './support/corpus.ts';
import {
  cpuDelta,
  cpuOfProcessesMatching,
  cpuSeconds,
  machineCpu,
  memory,
  resetPeak,
} from './support/proc.ts';
import { freePort, ServiceProcess, waitForHttp } from './support/ServiceProcess.ts';
import { fixed, table } from './support/stats.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const TARGET_RATIO = 0.9;
const TEST_MODELS = join(ROOT, 'test/fixtures/models');
const TEST_MODEL = 'tiny-bert-embed';
/** Helvetica 12 pt on a US-letter page with 1-inch margins, 16 pt leading (pdfFactory's layout). */
const LINE_CHARACTERS = 86;
const LINES_PER_PAGE = 42;
const RSS_SAMPLE_MS = 200;

const out = (text = '') => process.stdout.write(`${text}\n`);
const progress = (text: string) => process.stderr.write(`  · ${text}\n`);

// ---- options ----

const usage =
  'node bench/ingest.ts [--pages 200] [--documents 8] [--model-dir DIR] [--model NAME] [--dtype fp32|q8] [--threads 1] [--batch 32] [--chunk-tokens 240] [--overlap 0.15] [--concurrency 1] [--timeout 900] [--seed 7]';
let configured: ReturnType<typeof loadConfig>['embeddings'];
try {
  // The defaults are the settings the service itself would load (environment or built-in defaults).
  configured = loadConfig().embeddings;
} catch (error) {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(2);
}
const DEFAULT_MODEL = configured.model;
const DEFAULT_MODEL_DIR = configured.modelsDir ?? configured.cacheDir;
const { values: flags } = parseArgs({
  options: {
    pages: { type: 'string', default: '200' },
    documents: { type: 'string', default: '8' },
    'model-dir': { type: 'string', default: DEFAULT_MODEL_DIR },
    model: { type: 'string', default: DEFAULT_MODEL },
    dtype: { type: 'string', default: configured.dtype },
    threads: { type: 'string', default: '1' },
    batch: { type: 'string', default: '32' },
    'chunk-tokens': { type: 'string', default: '240' },
    overlap: { type: 'string', default: '0.15' },
    concurrency: { type: 'string', default: '1' },
    timeout: { type: 'string', default: '900' },
    seed: { type: 'string', default: '7' },
    help: { type: 'boolean', default: false },
  },
  strict: true,
});
if (flags.help) {
  out(usage);
  process.exit(0);
}
if (flags.dtype !== 'fp32' && flags.dtype !== 'q8') {
  console.error(`--dtype: expected fp32 or q8, got "${flags.dtype}"`);
  process.exit(2);
}
const options = {
  pages: integerFlag('pages', flags.pages, 1, 100_000),
  documents: integerFlag('documents', flags.documents, 1, 1_000),
  modelDir: resolve(flags['model-dir']),
  model: flags.model,
  dtype: flags.dtype,
  threads: integerFlag('threads', flags.threads, 1, 64),
  batch: integerFlag('batch', flags.batch, 1, 1_024),
  chunkTokens: integerFlag('chunk-tokens', flags['chunk-tokens'], 32, 8_192),
  overlap: numberFlag('overlap', flags.overlap, 0, 0.5),
  concurrency: integerFlag('concurrency', flags.concurrency, 1, 64),
  timeoutMs: integerFlag('timeout', flags.timeout, 10, 36_000) * 1_000,
  seed: integerFlag('seed', flags.seed, 0, 2 ** 31),
};
if (options.documents > options.pages) {
  console.error('--documents must not exceed --pages');
  process.exit(2);
}
const weightsFile = join(
  options.modelDir,
  options.model,
  options.dtype === 'q8' ? 'onnx/model_quantized.onnx' : 'onnx/model.onnx',
);
if (!existsSync(weightsFile)) {
  console.error(
    [
      `no model weights at ${weightsFile} (--model-dir, --model, --dtype).`,
      `Get the default model with \`npm run models:pull\` (downloads ${DEFAULT_MODEL} into ${DEFAULT_MODEL_DIR}),`,
      'or point --model-dir at a local folder that holds <model>/, e.g.',
      `  npm run bench:ingest -- --model-dir test/fixtures/models --model ${TEST_MODEL}   (the tiny test model)`,
    ].join('\n'),
  );
  process.exit(2);
}
const modelKind =
  options.modelDir === TEST_MODELS && options.model === TEST_MODEL
    ? 'tiny TEST model (hidden size 16: far cheaper than a real model; figures say little about production)'
    : options.model === DEFAULT_MODEL
      ? 'the default embedding model'
      : 'model given by flags';
requireLocal({ TEST_DATABASE_URL: TEST_DATABASE_ADMIN_URL, TEST_REDIS_URL });
const cleanups = new Cleanups('ingest');

/** The settings both sides get: the worker and edge as environment, the baseline through loadConfig. */
const embeddingEnv: Record<string, string> = {
  EMBEDDING_MODEL: options.model,
  MODELS_DIR: options.modelDir,
  EMBEDDING_DTYPE: options.dtype,
  EMBEDDING_BATCH_SIZE: String(options.batch),
  EMBEDDING_THREADS: String(options.threads),
  CHUNK_TOKENS: String(options.chunkTokens),
  CHUNK_OVERLAP: String(options.overlap),
};

// ---- the corpus ----

interface CorpusDocument {
  filename: string;
  pages: number;
  bytes: Uint8Array;
}

/** Paragraphs of prose wrapped into lines, pages of LINES_PER_PAGE lines ('' between paragraphs). */
function makeCorpus(): CorpusDocument[] {
  const random = new Random(options.seed);
  const vocabulary = new Vocabulary(20_000, random);
  const weights = Array.from({ length: options.documents }, () => 0.5 + random.next());
  const total = weights.reduce((sum, weight) => sum + weight, 0);
  const pageCounts = weights.map((weight) => Math.max(1, Math.floor((options.pages * weight) / total)));
  pageCounts[0]! += options.pages - pageCounts.reduce((sum, count) => sum + count, 0);
  return pageCounts.map((pageCount, index) => {
    const topicWords = vocabulary.distinct(random, 30, 100, 8_000);
    const pages: string[][] = [];
    let lines: string[] = [];
    while (pages.length < pageCount) {
      const sentences = prose(random, vocabulary, random.between(40, 140), { topicWords, topicShare: 0.06 });
      let line = '';
      for (const word of sentences.join(' ').split(' ')) {
        if (line && line.length + 1 + word.length > LINE_CHARACTERS) {
          lines.push(line);
          line = word;
        } else line = line ? `${line} ${word}` : word;
        if (lines.length === LINES_PER_PAGE) {
          pages.push(lines);
          lines = [];
          if (pages.length === pageCount) break;
        }
      }
      if (pages.length === pageCount) break;
      if (line) lines.push(line);
      if (lines.length > 0 && lines.length < LINES_PER_PAGE) lines.push('');
      if (lines.length >= LINES_PER_PAGE) {
        pages.push(lines.slice(0, LINES_PER_PAGE));
        lines = lines.slice(LINES_PER_PAGE);
      }
    }
    return {
      filename: `bench-report-${String(index + 1).padStart(2, '0')}.pdf`,
      pages: pageCount,
      bytes: makeTextPdf(pages),
    };
  });
}

// ---- baseline: the embedder alone ----

interface Baseline {
  loadMs: number;
  parseChunkMs: number;
  chunks: TextChunk[][];
  tokens: number;
  words: number;
  textTokens: number;
  /** All batches of a document in one embed() call: the pool spreads them over its threads. */
  rawMs: number;
  /** One embed() per batch, awaited in turn, as IngestDocumentTask calls it (only with threads > 1). */
  serialMs?: number;
  rss: { peakMb: number };
}

async function runBaseline(corpus: CorpusDocument[]): Promise<Baseline> {
  const config = loadConfig({ ...embeddingEnv, LOG_LEVEL: 'silent' });
  const embedder = createEmbedder(config, createLogger('silent'));
  const closeEmbedder = cleanups.add('baseline embedder', () => embedder.close());
  progress(`baseline: loading ${options.model} (${options.dtype}, ${options.threads} thread(s))`);
  let startedAt = performance.now();
  await embedder.ready();
  const loadMs = performance.now() - startedAt;

  startedAt = performance.now();
  const chunks: TextChunk[][] = [];
  for (const document of corpus) {
    const parsed = await parseDocument(document.bytes, 'pdf');
    chunks.push(
      chunkDocument(parsed, {
        maxTokens: config.chunking.tokens,
        overlap: config.chunking.overlap,
        countTokens: (text) => embedder.countTokens(text),
      }),
    );
  }
  const parseChunkMs = performance.now() - startedAt;
  const total = chunks.reduce((sum, list) => sum + list.length, 0);
  const tokens = chunks.flat().reduce((sum, chunk) => sum + chunk.tokenCount, 0);
  // Words and tokens of the parsed text itself (chunks repeat their overlap).
  let words = 0;
  let textTokens = 0;
  for (const document of corpus)
    for (const page of (await parseDocument(document.bytes, 'pdf')).pages) {
      words += page.text.split(/\s+/).filter(Boolean).length;
      textTokens += embedder.countTokens(page.text);
    }

  resetPeak(process.pid);
  progress(`baseline: embedding ${total} chunks, each document in one embed() call`);
  startedAt = performance.now();
  for (const list of chunks) await embedder.embed(list.map((chunk) => chunk.content));
  const rawMs = performance.now() - startedAt;

  let serialMs: number | undefined;
  if (options.threads > 1) {
    progress(`baseline: again, one embed() per batch of ${options.batch} (as the ingest task calls it)`);
    startedAt = performance.now();
    for (const list of chunks)
      for (let start = 0; start < list.length; start += options.batch)
        await embedder.embed(list.slice(start, start + options.batch).map((chunk) => chunk.content));
    serialMs = performance.now() - startedAt;
  }
  const rss = memory(process.pid);
  await closeEmbedder();
  return { loadMs, parseChunkMs, chunks, tokens, words, textTokens, rawMs, serialMs, rss };
}

// ---- pipeline: edge + ingest worker ----

interface DocumentTimeline {
  filename: string;
  id?: string;
  uploadedAt?: number;
  processingAt?: number;
  readyAt?: number;
  failed?: string;
  chunkCount?: number;
  events: number;
}

interface Pipeline {
  wallMs: number;
  chunks: number;
  timelines: DocumentTimeline[];
  workerSettings?: Record<string, unknown>;
  workerSeconds: number[];
  worker: {
    cpuSeconds: number;
    peakMb: number;
    startupPeakMb: number;
    sampledMaxMb: number;
    peakReset: boolean;
  };
  edge: { cpuSeconds: number; peakMb: number };
  postgresCpuSeconds: number;
  machineBusySeconds: number;
  otherCpuSeconds: number;
  windowMs: number;
  problems: string[];
  services: ServiceProcess[];
}

async function runPipeline(corpus: CorpusDocument[]): Promise<Pipeline> {
  const redis = new Redis(TEST_REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  cleanups.add('redis', () => redis.quit());
  const databaseUrl = await createTestDatabase('ingest');
  cleanups.add('database', () => dropTestDatabases());
  const prefix = uniqueQueuePrefix('bench-ingest');
  cleanups.add('redis keys', async () => {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1_000);
      cursor = next;
      if (keys.length > 0) await redis.unlink(...keys);
    } while (cursor !== '0');
  });
  const port = await freePort();
  const env: Record<string, string> = {
    DATABASE_URL: databaseUrl,
    REDIS_URL: TEST_REDIS_URL,
    QUEUE_PREFIX: prefix,
    JWT_SECRET: TEST_JWT_SECRET,
    LOG_LEVEL: 'warn',
    PORT: String(port),
    HOST: '127.0.0.1',
    RATE_LIMIT_AUTH: '1000/1m',
    RATE_LIMIT_UPLOADS: '100000/1h',
    INGEST_CONCURRENCY: String(options.concurrency),
    SHUTDOWN_TIMEOUT_MS: '10000',
    // The bench's settings only: a developer's .env must not change what is measured.
    PARLEY_ENV_FILE: '',
    ...embeddingEnv,
  };
  // The worker logs at info: its "embedding model loaded" line shows the settings it really uses.
  const workerEnv = { ...env, WORKER_QUEUES: 'ingest', LOG_LEVEL: 'info' };
  loadConfig({ ...process.env, ...workerEnv }); // a bad setting fails here, with the variable's name

  progress('pipeline: starting the edge (applies the migrations, loads its model)');
  const edge = new ServiceProcess('edge', 'src/web.ts', env, ROOT);
  const stopEdge = cleanups.add('edge', () => edge.stop());
  const url = `http://127.0.0.1:${port}`;
  await Promise.race([waitForHttp(`${url}/health`, 180_000), edge.failOnExit()]);

  progress('pipeline: starting the ingest worker');
  const worker = new ServiceProcess('worker', 'workers/index.ts', workerEnv, ROOT);
  const stopWorker = cleanups.add('worker', () => worker.stop());
  let workerSettings: Record<string, unknown> | undefined;
  const workerSeconds: number[] = [];
  const started = new Promise<void>((resolve) => {
    createInterface({ input: worker.process.stdout! }).on('line', (line) => {
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return;
      }
      if (entry.msg === 'embedding model loaded' && 'dtype' in entry) workerSettings = entry;
      if (entry.msg === 'document ready' && typeof entry.seconds === 'number')
        workerSeconds.push(entry.seconds);
      if (entry.msg === 'workers started') resolve();
    });
  });
  const guard = Promise.race([edge.failOnExit(), worker.failOnExit()]);
  guard.catch(() => {});
  await Promise.race([
    started,
    guard,
    sleep(180_000, undefined, { ref: false }).then(() =>
      Promise.reject(new Error('worker not started after 180 s')),
    ),
  ]);

  const api = new ApiClient(url);
  const session = await api.signup('bench-ingest');
  const socket: Socket = io(url, {
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    auth: { token: session.accessToken },
  });
  cleanups.add('socket', () => socket.disconnect());
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });

  const timelines: DocumentTimeline[] = corpus.map((document) => ({
    filename: document.filename,
    events: 0,
  }));
  const byId = new Map<string, DocumentTimeline>();
  const early = new Map<string, { at: number; event: DocumentProgress }[]>();
  let settled = 0;
  let allSettled!: () => void;
  const finished = new Promise<void>((resolve) => {
    allSettled = resolve;
  });
  const apply = (timeline: DocumentTimeline, event: DocumentProgress, at: number) => {
    timeline.events += 1;
    if (event.status === 'processing') timeline.processingAt ??= at;
    if (timeline.readyAt !== undefined || timeline.failed !== undefined) return;
    if (event.status === 'ready') {
      timeline.readyAt = at;
      timeline.chunkCount = event.chunkCount;
    } else if (event.status === 'failed') timeline.failed = event.error ?? 'failed';
    else return;
    settled += 1;
    if (settled === corpus.length) allSettled();
  };
  socket.on('document:progress', (event: DocumentProgress) => {
    const at = performance.now();
    const timeline = byId.get(event.documentId);
    if (timeline) apply(timeline, event, at);
    else early.set(event.documentId, [...(early.get(event.documentId) ?? []), { at, event }]);
  });

  // Measurement window: the worker is idle with its model loaded.
  const startupMemory = memory(worker.pid);
  const startupPeakMb = startupMemory.peakMb;
  const peakReset = resetPeak(worker.pid);
  let sampledMaxMb = startupMemory.rssMb;
  const sampler = setInterval(() => {
    try {
      sampledMaxMb = Math.max(sampledMaxMb, memory(worker.pid).rssMb);
    } catch {
      // exited
    }
  }, RSS_SAMPLE_MS);
  cleanups.add('rss sampler', () => clearInterval(sampler));
  resetPeak(edge.pid);
  const databaseName = new URL(databaseUrl).pathname.slice(1);
  const cpuBefore = { worker: cpuSeconds(worker.pid), edge: cpuSeconds(edge.pid) };
  const pgBefore = cpuOfProcessesMatching(databaseName);
  const machineBefore = machineCpu();
  const selfBefore = process.cpuUsage();

  progress(
    `pipeline: uploading ${corpus.length} PDFs (${options.pages} pages), waiting for document:progress ready`,
  );
  const firstUpload = performance.now();
  const problems: string[] = [];
  for (const [index, document] of corpus.entries()) {
    const response = await api.upload(session.accessToken, document.filename, document.bytes);
    const timeline = timelines[index]!;
    timeline.uploadedAt = performance.now();
    if (response.status !== 202) {
      problems.push(
        `${document.filename}: upload answered ${response.status} ${JSON.stringify(response.body)}`,
      );
      timeline.failed = `upload ${response.status}`;
      settled += 1;
      continue;
    }
    timeline.id = response.body.id as string;
    byId.set(timeline.id, timeline);
    for (const { at, event } of early.get(timeline.id) ?? []) apply(timeline, event, at);
    early.delete(timeline.id);
  }
  if (settled === corpus.length) allSettled();
  let timer: NodeJS.Timeout | undefined;
  const timedOut = await Promise.race([
    finished.then(() => false),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), options.timeoutMs);
    }),
    guard,
  ]);
  clearTimeout(timer);
  const lastReady = Math.max(...timelines.map((timeline) => timeline.readyAt ?? 0));
  const windowMs = performance.now() - firstUpload;
  clearInterval(sampler);
  const self = process.cpuUsage(selfBefore);
  const workerCpu = cpuSeconds(worker.pid) - cpuBefore.worker;
  const edgeCpu = cpuSeconds(edge.pid) - cpuBefore.edge;
  const postgresCpu = cpuDelta(pgBefore, cpuOfProcessesMatching(databaseName));
  const machineBusy = machineCpu().busy - machineBefore.busy;
  const workerMemory = memory(worker.pid);
  const edgeMemory = memory(edge.pid);
  if (timedOut)
    problems.push(`${corpus.length - settled} document(s) not ready after ${options.timeoutMs / 1_000} s`);
  for (const timeline of timelines)
    if (timeline.failed) problems.push(`${timeline.filename}: ${timeline.failed}`);

  // Cross-check with the API: what the documents say about themselves.
  for (const timeline of timelines) {
    if (!timeline.id) continue;
    const response = await api.request('GET', `/api/v1/documents/${timeline.id}`, {
      token: session.accessToken,
    });
    const body = response.body as { status: string; chunkCount: number };
    if (body.status !== 'ready' || body.chunkCount !== timeline.chunkCount)
      problems.push(
        `${timeline.filename}: GET says ${body.status} with ${body.chunkCount} chunks, the ready event said ${timeline.chunkCount}`,
      );
  }

  socket.disconnect();
  await Promise.all([stopWorker(), stopEdge()]);
  const chunks = timelines.reduce((sum, timeline) => sum + (timeline.chunkCount ?? 0), 0);
  return {
    wallMs: lastReady - firstUpload,
    chunks,
    timelines: timelines.map((timeline) => ({
      ...timeline,
      uploadedAt: timeline.uploadedAt === undefined ? undefined : timeline.uploadedAt - firstUpload,
      processingAt: timeline.processingAt === undefined ? undefined : timeline.processingAt - firstUpload,
      readyAt: timeline.readyAt === undefined ? undefined : timeline.readyAt - firstUpload,
    })),
    workerSettings,
    workerSeconds,
    worker: {
      cpuSeconds: workerCpu,
      peakMb: workerMemory.peakMb,
      startupPeakMb,
      sampledMaxMb,
      peakReset,
    },
    edge: { cpuSeconds: edgeCpu, peakMb: edgeMemory.peakMb },
    postgresCpuSeconds: postgresCpu,
    machineBusySeconds: machineBusy,
    otherCpuSeconds: machineBusy - workerCpu - edgeCpu - postgresCpu - (self.user + self.system) / 1e6,
    windowMs,
    problems,
    services: [edge, worker],
  };
}

// ---- main ----

async function main(): Promise<void> {
  const startedAt = performance.now();
  const loadAtStart = loadAverage();
  progress(
    `ingest benchmark: ${options.pages} pages in ${options.documents} PDFs; ${options.model} (${options.dtype}) from ${options.modelDir}; threads ${options.threads}, batch ${options.batch}`,
  );
  let phase = performance.now();
  const corpus = makeCorpus();
  const corpusMs = performance.now() - phase;
  const corpusBytes = corpus.reduce((sum, document) => sum + document.bytes.length, 0);
  progress(
    `corpus: ${corpus.length} PDFs, ${fixed(corpusBytes / 2 ** 20, 1)} MiB, made in ${fixed(corpusMs / 1_000, 1)} s`,
  );

  phase = performance.now();
  const baseline = await runBaseline(corpus);
  const baselinePhaseMs = performance.now() - phase;
  const chunkCounts = baseline.chunks.map((list) => list.length);
  const totalChunks = chunkCounts.reduce((sum, count) => sum + count, 0);

  phase = performance.now();
  const pipeline = await runPipeline(corpus);
  const pipelinePhaseMs = performance.now() - phase;
  for (const [index, timeline] of pipeline.timelines.entries())
    if (timeline.chunkCount !== undefined && timeline.chunkCount !== chunkCounts[index])
      pipeline.problems.push(
        `${timeline.filename}: the pipeline stored ${timeline.chunkCount} chunks, the benchmark's chunking made ${chunkCounts[index]}`,
      );
  for (const service of pipeline.services)
    if (service.warnings + service.errors > 0)
      pipeline.problems.push(
        `${service.name} logged ${service.warnings} warning(s) and ${service.errors} error(s); last line: ${service.tail.at(-1)?.slice(0, 300)}`,
      );

  // ---- report ----
  const seconds = (ms: number) => fixed(ms / 1_000, 1);
  const rate = (chunks: number, ms: number) => fixed(chunks / (ms / 1_000), 1);
  const rawRate = totalChunks / (baseline.rawMs / 1_000);
  const pipelineRate = pipeline.chunks / (pipeline.wallMs / 1_000);
  const ratio = pipelineRate / rawRate;

  out();
  out('Throughput (chunks per second; the same chunk texts on both sides)');
  const rows: string[][] = [
    [
      'raw embedder',
      'EmbedderPool.embed(all chunks of a document), document after document',
      String(totalChunks),
      seconds(baseline.rawMs),
      rate(totalChunks, baseline.rawMs),
      fixed(baseline.tokens / (baseline.rawMs / 1_000), 0),
      '1.00',
    ],
  ];
  if (baseline.serialMs !== undefined)
    rows.push([
      'raw, batch by batch',
      `one embed() per ${options.batch} chunks, awaited in turn (as IngestDocumentTask does)`,
      String(totalChunks),
      seconds(baseline.serialMs),
      rate(totalChunks, baseline.serialMs),
      fixed(baseline.tokens / (baseline.serialMs / 1_000), 0),
      fixed(baseline.rawMs / baseline.serialMs, 2),
    ]);
  rows.push([
    'pipeline',
    'first upload → last document:progress ready (edge + ingest worker)',
    String(pipeline.chunks),
    seconds(pipeline.wallMs),
    rate(pipeline.chunks, pipeline.wallMs),
    fixed(baseline.tokens / (pipeline.wallMs / 1_000), 0),
    fixed(ratio, 2),
  ]);
  out(table(['system', 'what is timed', 'chunks', 'seconds', 'chunks/s', 'tokens/s', 'of raw'], rows));
  out(
    `  target: pipeline ≥ ${TARGET_RATIO} × raw → ${fixed(ratio, 2)} → ${ratio >= TARGET_RATIO ? 'met' : 'NOT met'}`,
  );

  out();
  out('Pipeline per document (seconds from the first upload; worker = its own "document ready" time)');
  const documentRows = pipeline.timelines.map((timeline, index) => {
    const queued = timeline.processingAt !== undefined && timeline.uploadedAt !== undefined;
    return [
      timeline.filename,
      String(corpus[index]!.pages),
      String(timeline.chunkCount ?? '–'),
      timeline.uploadedAt === undefined ? '–' : fixed(timeline.uploadedAt / 1_000, 2),
      timeline.processingAt === undefined ? '–' : fixed(timeline.processingAt / 1_000, 2),
      timeline.readyAt === undefined ? '–' : fixed(timeline.readyAt / 1_000, 2),
      queued ? fixed((timeline.processingAt! - timeline.uploadedAt!) / 1_000, 2) : '–',
      timeline.readyAt !== undefined && timeline.processingAt !== undefined
        ? fixed((timeline.readyAt - timeline.processingAt) / 1_000, 2)
        : '–',
      timeline.readyAt !== undefined && timeline.processingAt !== undefined && timeline.chunkCount
        ? fixed(timeline.chunkCount / ((timeline.readyAt - timeline.processingAt) / 1_000), 1)
        : '–',
      String(timeline.events),
    ];
  });
  out(
    table(
      [
        'document',
        'pages',
        'chunks',
        'uploaded',
        'processing',
        'ready',
        'wait',
        'processing→ready',
        'chunks/s',
        'events',
      ],
      documentRows,
      1,
    ),
  );
  const workerBusy = pipeline.workerSeconds.reduce((sum, value) => sum + value, 0);
  out(
    `  worker's own time over all documents (sum of "document ready" seconds): ${fixed(workerBusy, 1)} s of ${seconds(pipeline.wallMs)} s wall; raw embedding of the same chunks: ${seconds(baseline.rawMs)} s; parse + chunk in the benchmark process: ${seconds(baseline.parseChunkMs)} s`,
  );

  out();
  out('Resources during the pipeline run (first upload → last ready)');
  const window = pipeline.windowMs / 1_000;
  const cores = Number(nproc());
  const otherShare = pipeline.otherCpuSeconds / (cores * window);
  out(
    table(
      ['process', 'CPU s', '% of one core', 'peak RSS MiB'],
      [
        [
          'ingest worker',
          fixed(pipeline.worker.cpuSeconds, 1),
          fixed((100 * pipeline.worker.cpuSeconds) / window, 0),
          `${fixed(pipeline.worker.peakMb, 0)}${pipeline.worker.peakReset ? '' : ' (since start: VmHWM could not be reset)'}`,
        ],
        [
          'edge',
          fixed(pipeline.edge.cpuSeconds, 1),
          fixed((100 * pipeline.edge.cpuSeconds) / window, 0),
          fixed(pipeline.edge.peakMb, 0),
        ],
        [
          'postgres (this database)',
          fixed(pipeline.postgresCpuSeconds, 1),
          fixed((100 * pipeline.postgresCpuSeconds) / window, 0),
          '',
        ],
        [
          'everything else',
          fixed(Math.max(0, pipeline.otherCpuSeconds), 1),
          fixed(Math.max(0, (100 * pipeline.otherCpuSeconds) / window), 0),
          '',
        ],
      ],
      1,
    ),
  );
  out(
    `  worker RSS: peak ${fixed(pipeline.worker.peakMb, 0)} MiB (VmHWM${pipeline.worker.peakReset ? ', reset when the model had loaded' : ''}; ${fixed(pipeline.worker.startupPeakMb, 0)} MiB peak during start-up); highest ${RSS_SAMPLE_MS} ms sample ${fixed(pipeline.worker.sampledMaxMb, 0)} MiB; the baseline process peaked at ${fixed(baseline.rss.peakMb, 0)} MiB while embedding`,
  );
  out(
    `  machine: ${fixed(pipeline.machineBusySeconds, 1)} CPU s busy of ${fixed(cores * window, 1)} (${fixed((100 * pipeline.machineBusySeconds) / (cores * window), 0)}%); other load ${fixed(Math.max(0, 100 * otherShare), 0)}% of the machine${otherShare > 0.1 ? ' — figures are disturbed, rerun on a quiet machine' : ''}`,
  );

  out();
  out(
    pipeline.problems.length === 0
      ? "Problems: none (every document ready, chunk counts match the benchmark's chunking and GET /api/v1/documents/:id)."
      : 'Problems',
  );
  for (const problem of pipeline.problems) out(`  ${problem}`);

  out();
  out('Setup');
  out(`  model: ${options.model} from ${options.modelDir} — ${modelKind}; dtype ${options.dtype}`);
  out(
    `  settings (both sides): EMBEDDING_THREADS ${options.threads}, EMBEDDING_BATCH_SIZE ${options.batch}, CHUNK_TOKENS ${options.chunkTokens}, CHUNK_OVERLAP ${options.overlap}; worker: WORKER_QUEUES=ingest, INGEST_CONCURRENCY ${options.concurrency}`,
  );
  const reported = pipeline.workerSettings;
  out(
    `  the worker reported: ${reported ? `model ${String(reported.model)}, dtype ${String(reported.dtype)}, threads ${String(reported.threads)}, ${String(reported.dimensions)} dimensions, loaded in ${String(reported.ms)} ms` : 'no "embedding model loaded" line seen'}; the baseline loaded the model in ${seconds(baseline.loadMs)} s`,
  );
  out(
    `  corpus: ${corpus.length} PDFs, ${options.pages} pages (${corpus.map((document) => document.pages).join('/')}), ${fixed(corpusBytes / 2 ** 20, 1)} MiB, ${LINES_PER_PAGE} lines of ≤ ${LINE_CHARACTERS} characters a page, prose paragraphs from a Zipf vocabulary (seed ${options.seed}); ${totalChunks} chunks (${fixed(totalChunks / options.pages, 1)} a page), ${fixed(baseline.tokens / totalChunks, 0)} tokens a chunk on average; ${fixed(baseline.textTokens / baseline.words, 2)} tokens a word (made-up terms split into several word pieces; English prose is nearer 1.3, so a real page makes fewer chunks)`,
  );
  out(`  machine: ${machineFacts()} (at start ${loadAtStart})`);
  out(`  command: node bench/ingest.ts ${process.argv.slice(2).join(' ')}`.trimEnd());
  out(
    `  total time: ${seconds(performance.now() - startedAt)} s (corpus ${seconds(corpusMs)} s, baseline phase ${seconds(baselinePhaseMs)} s, pipeline phase with start-up and shutdown ${seconds(pipelinePhaseMs)} s)`,
  );
}

await cleanups.run(main);
