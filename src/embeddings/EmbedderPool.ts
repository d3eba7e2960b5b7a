import { Worker } from 'node:worker_threads';
import { AutoTokenizer, type PreTrainedTokenizer } from '@huggingface/transformers';
import type { Config } from '../config.ts';
import type { Logger } from '../logger.ts';
import type { Embedder } from './Embedder.ts';
import { EmbedderUnavailableError } from './EmbedderUnavailableError.ts';
import type { EmbeddingThreadMessage, EmbeddingThreadSettings, EmbedRequest } from './embeddingThread.ts';
import {
  applyModelSource,
  describeModelSource,
  explainModelLoadFailure,
  type ModelSource,
  modelSourceFrom,
} from './modelSource.ts';

export interface EmbedderPoolOptions {
  model: string;
  dtype: Config['embeddings']['dtype'];
  source: ModelSource;
  /** Texts per message to a thread; one embed() call is split into batches of this size. */
  batchSize: number;
  /** Worker threads, each with its own copy of the model. */
  threads: number;
  /** onnxruntime intra-op threads inside each worker thread (default 1: the pool is the parallelism). */
  onnxThreadsPerWorker?: number;
  /** The worker thread's module; tests substitute one that misbehaves. */
  threadEntry?: URL;
}

/** Text embedded once at start-up to measure the model's real output dimension. */
const DIMENSION_PROBE = 'dimension probe';

interface Job {
  /** Set when one batch of the job failed: its other queued batches are then skipped. */
  failed: boolean;
}

interface Batch {
  id: number;
  texts: string[];
  job: Job;
  resolve(vectors: number[][]): void;
  reject(error: Error): void;
}

interface PoolThread {
  worker: Worker;
  loaded: boolean;
  /** Terminated on purpose (close, or a failed start): its exit is not a crash. */
  stopping: boolean;
  /** Settles when the model has loaded in this thread (rejects with the explained reason). */
  whenLoaded: Promise<void>;
  inFlight?: Batch;
}

/**
 * Embeds texts in N worker threads: embed() splits its texts into batches, idle threads take batches
 * from one queue, and results are put back in the caller's order. The tokenizer (for countTokens)
 * lives in the calling thread because token counting is synchronous and cheap.
 */
export class EmbedderPool implements Embedder {
  readonly model: string;
  readonly #options: EmbedderPoolOptions;
  readonly #logger: Logger;
  #threads: PoolThread[] = [];
  readonly #queue: Batch[] = [];
  #nextBatchId = 0;
  #tokenizer?: PreTrainedTokenizer;
  #readiness?: Promise<{ dimensions: number }>;
  #closing?: Promise<void>;

  constructor(options: EmbedderPoolOptions, logger: Logger) {
    if (options.threads < 1 || options.batchSize < 1) {
      throw new Error('EmbedderPool needs threads ≥ 1 and batchSize ≥ 1');
    }
    this.model = options.model;
    this.#options = options;
    this.#logger = logger;
  }

  ready(): Promise<{ dimensions: number }> {
    if (this.#closing) return Promise.reject(closedError());
    this.#readiness ??= this.#start().catch((error: unknown) => {
      this.#readiness = undefined; // the next call tries again (e.g. after the model was put in place)
      throw error;
    });
    return this.#readiness;
  }

  async embed(texts: string[]): Promise<number[][]> {
    if (texts.length === 0) return [];
    await this.ready();
    return this.#run(texts);
  }

  countTokens(text: string): number {
    if (!this.#tokenizer) {
      throw new Error(`countTokens needs the tokenizer of "${this.model}": await embedder.ready() first`);
    }
    return this.#tokenizer.encode(text, { add_special_tokens: false }).length;
  }

  close(): Promise<void> {
    this.#closing ??= this.#shutDown();
    return this.#closing;
  }

  async #start(): Promise<{ dimensions: number }> {
    const startedAt = performance.now();
    const { model, dtype, source } = this.#options;
    applyModelSource(source);
    try {
      // One thread first: from the hub it downloads into the cache once, and the others then read it.
      if (!this.#threads.some((thread) => thread.loaded)) await this.#spawn().whenLoaded;
      while (this.#threads.length < this.#options.threads) this.#spawn();
      const tokenizerLoaded = this.#tokenizer
        ? Promise.resolve(this.#tokenizer)
        : AutoTokenizer.from_pretrained(model).catch((error: unknown) => {
            throw new EmbedderUnavailableError(explainModelLoadFailure(model, dtype, source, error));
          });
      const [tokenizer] = await Promise.all([tokenizerLoaded, ...this.#threads.map((t) => t.whenLoaded)]);
      this.#tokenizer = tokenizer;
    } catch (error) {
      // No half-started pool: threads that did load would otherwise sit idle holding a model copy.
      await this.#stopAll();
      throw error;
    }
    const [probe] = await this.#run([DIMENSION_PROBE]);
    const dimensions = probe!.length;
    this.#logger.info(
      {
        model,
        dtype,
        dimensions,
        threads: this.#options.threads,
        from: describeModelSource(source, model),
        ms: Math.round(performance.now() - startedAt),
      },
      'embedding model loaded',
    );
    return { dimensions };
  }

  #run(texts: string[]): Promise<number[][]> {
    if (this.#closing) return Promise.reject(closedError());
    const job: Job = { failed: false };
    const parts: Promise<number[][]>[] = [];
    for (let start = 0; start < texts.length; start += this.#options.batchSize) {
      parts.push(
        new Promise((resolve, reject) => {
          this.#queue.push({
            id: ++this.#nextBatchId,
            texts: texts.slice(start, start + this.#options.batchSize),
            job,
            resolve,
            reject: (error) => {
              job.failed = true;
              reject(error);
            },
          });
        }),
      );
    }
    this.#dispatch();
    return Promise.all(parts).then((batches) => batches.flat());
  }

  /** Hands queued batches to idle, loaded threads. */
  #dispatch(): void {
    for (const thread of this.#threads) {
      if (thread.loaded && !thread.inFlight) {
        const batch = this.#nextBatch();
        if (batch) {
          thread.inFlight = batch;
          thread.worker.postMessage({ id: batch.id, texts: batch.texts } satisfies EmbedRequest);
        }
      }
      holdProcessOnlyWhileWorking(thread);
    }
  }

  #nextBatch(): Batch | undefined {
    let batch = this.#queue.shift();
    while (batch?.job.failed) batch = this.#queue.shift();
    return batch;
  }

  #spawn(): PoolThread {
    const { model, dtype, source } = this.#options;
    const settings: EmbeddingThreadSettings = {
      model,
      dtype,
      source,
      onnxThreads: this.#options.onnxThreadsPerWorker ?? 1,
    };
    const worker = new Worker(this.#options.threadEntry ?? new URL('./embeddingThread.ts', import.meta.url), {
      workerData: settings,
      name: `embedder:${model}`,
    });
    let markLoaded!: () => void;
    let failLoad!: (error: Error) => void;
    const whenLoaded = new Promise<void>((resolve, reject) => {
      markLoaded = resolve;
      failLoad = reject;
    });
    whenLoaded.catch(() => {}); // awaited by whoever started the thread; never an unhandled rejection
    const thread: PoolThread = { worker, loaded: false, stopping: false, whenLoaded };
    this.#threads.push(thread);
    let crash: Error | undefined;

    worker.on('message', (message: EmbeddingThreadMessage) => {
      switch (message.type) {
        case 'loaded':
          thread.loaded = true;
          markLoaded();
          this.#dispatch();
          return;
        case 'load-failed':
          failLoad(
            new EmbedderUnavailableError(explainModelLoadFailure(model, dtype, source, message.reason)),
          );
          return;
        case 'embedded':
          this.#settle(thread, message.id, (batch) => batch.resolve(rowsOf(message.vectors, message.dims)));
          return;
        case 'failed':
          this.#settle(thread, message.id, (batch) =>
            batch.reject(
              new Error(`Embedding ${batch.texts.length} texts with "${model}" failed: ${message.error}`),
            ),
          );
          return;
      }
    });
    worker.on('error', (error) => {
      crash = error; // 'exit' follows and does the handling
    });
    worker.on('exit', (exitCode) => {
      this.#threads = this.#threads.filter((other) => other !== thread);
      if (thread.stopping) {
        failLoad(closedError());
        return;
      }
      const reason = crash ? crash.message : `the thread exited with code ${exitCode}`;
      if (!thread.loaded) {
        failLoad(new EmbedderUnavailableError(explainModelLoadFailure(model, dtype, source, reason)));
        return;
      }
      const lost = thread.inFlight;
      thread.inFlight = undefined;
      lost?.reject(
        new Error(`The embedding thread crashed while embedding ${lost.texts.length} texts: ${reason}`),
      );
      this.#logger.error(
        { model, exitCode, reason, lostTexts: lost?.texts.length ?? 0 },
        'embedding thread crashed',
      );
      this.#replace();
    });
    return thread;
  }

  #settle(thread: PoolThread, id: number, outcome: (batch: Batch) => void): void {
    const batch = thread.inFlight;
    if (batch?.id !== id) return; // answer to a batch already failed by close()
    thread.inFlight = undefined;
    outcome(batch);
    this.#dispatch();
  }

  /** A crashed thread is replaced; if the replacement cannot load either, queued work fails instead of waiting forever. */
  #replace(): void {
    const replacement = this.#spawn();
    replacement.whenLoaded.then(
      () => this.#logger.info({ model: this.model }, 'embedding thread replaced'),
      (error: Error) => {
        if (this.#closing) return;
        this.#logger.error({ model: this.model, err: error }, 'replacement embedding thread failed to load');
        if (this.#threads.some((thread) => thread.loaded)) return;
        for (const batch of this.#queue.splice(0)) batch.reject(error);
        this.#readiness = undefined; // no working thread left: the next ready()/embed() starts over
      },
    );
  }

  async #shutDown(): Promise<void> {
    const error = closedError();
    for (const batch of this.#queue.splice(0)) batch.reject(error);
    for (const thread of this.#threads) {
      thread.inFlight?.reject(error);
      thread.inFlight = undefined;
    }
    await this.#stopAll();
  }

  async #stopAll(): Promise<void> {
    const stopping = this.#threads;
    this.#threads = [];
    for (const thread of stopping) thread.stopping = true;
    await Promise.all(stopping.map((thread) => thread.worker.terminate()));
  }
}

export function createEmbedder(config: Config, logger: Logger): Embedder {
  const { model, dtype, batchSize, threads } = config.embeddings;
  return new EmbedderPool(
    { model, dtype, batchSize, threads, source: modelSourceFrom(config.embeddings) },
    logger.child({ component: 'embedder' }),
  );
}

function closedError(): Error {
  return new Error('The embedder is closed: pending embedding work was cancelled');
}

function rowsOf(vectors: Float32Array, [rows, columns]: [number, number]): number[][] {
  return Array.from({ length: rows }, (_, row) =>
    Array.from(vectors.subarray(row * columns, (row + 1) * columns)),
  );
}

/** An idle pool must not keep the process alive; a loading or busy thread must. */
function holdProcessOnlyWhileWorking(thread: PoolThread): void {
  if (!thread.loaded || thread.inFlight) thread.worker.ref();
  else thread.worker.unref();
}
