import { parentPort, workerData } from 'node:worker_threads';
import { pipeline } from '@huggingface/transformers';
import type { Config } from '../config.ts';
import { applyModelSource, loadFailureReason, type ModelSource } from './modelSource.ts';

/**
 * Worker-thread entry: loads the feature-extraction pipeline once, then turns batches of texts into
 * mean-pooled, unit-length vectors. Started only by EmbedderPool, which owns the protocol below.
 */

export interface EmbeddingThreadSettings {
  model: string;
  dtype: Config['embeddings']['dtype'];
  source: ModelSource;
  /** onnxruntime's intra-op threads for this thread's session (the pool's threads are the parallelism). */
  onnxThreads: number;
}

/** Pool → thread: one batch; the pool sends the next only after this one's answer. */
export interface EmbedRequest {
  id: number;
  texts: string[];
}

/** Thread → pool. */
export type EmbeddingThreadMessage =
  | { type: 'loaded' }
  | { type: 'load-failed'; reason: string }
  /** `vectors` is `dims[0] * dims[1]` floats, row per text, transferred rather than copied. */
  | { type: 'embedded'; id: number; vectors: Float32Array; dims: [number, number] }
  | { type: 'failed'; id: number; error: string };

if (!parentPort) throw new Error('embeddingThread.ts runs only as a worker thread started by EmbedderPool');
const port = parentPort;
const settings = workerData as EmbeddingThreadSettings;
const reply = (message: EmbeddingThreadMessage, transfer: ArrayBuffer[] = []) =>
  port.postMessage(message, transfer);
const errorText = (error: unknown) => (error instanceof Error ? error.message : String(error));

applyModelSource(settings.source);

async function loadExtractor() {
  return pipeline('feature-extraction', settings.model, {
    dtype: settings.dtype,
    // Each pool thread is one unit of parallelism; letting onnxruntime also fan out per thread
    // would oversubscribe the cores (its default is one intra-op thread per core).
    session_options: { intraOpNumThreads: settings.onnxThreads, interOpNumThreads: 1 },
  });
}

type Extractor = Awaited<ReturnType<typeof loadExtractor>>;

function serve(extractor: Extractor) {
  port.on('message', async ({ id, texts }: EmbedRequest) => {
    try {
      const output = await extractor(texts, { pooling: 'mean', normalize: true });
      const [rows, columns] = output.dims as [number, number];
      const data = output.data;
      if (!(data instanceof Float32Array)) throw new Error(`expected float32 embeddings, got ${output.type}`);
      // Transfer needs a buffer of our own; a view into a larger one would hand over more than the vectors.
      const vectors =
        data.byteOffset === 0 && data.byteLength === data.buffer.byteLength ? data : data.slice();
      reply({ type: 'embedded', id, vectors, dims: [rows, columns] }, [vectors.buffer as ArrayBuffer]);
    } catch (error) {
      reply({ type: 'failed', id, error: errorText(error) });
    }
  });
}

try {
  serve(await loadExtractor());
  reply({ type: 'loaded' });
} catch (error) {
  // Without a message listener the thread then ends by itself; the pool reports the reason.
  reply({ type: 'load-failed', reason: loadFailureReason(error) });
}
