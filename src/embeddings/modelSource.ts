import { resolve, sep } from 'node:path';
import { env } from '@huggingface/transformers';
import type { Config } from '../config.ts';

/**
 * Where embedding models come from: a local folder (offline) or the Hugging Face hub with an on-disk
 * cache. transformers.js keeps this in a module-global `env`, and every thread has its own copy of
 * that module, so each thread that loads a model or tokenizer calls `applyModelSource` first.
 */

export interface ModelSource {
  /** `<modelsDir>/<model id>/` holds the model; remote downloads are off. */
  modelsDir?: string;
  /** Where hub downloads are kept (same `<model id>/` layout, so it can later serve as a modelsDir). */
  cacheDir: string;
}

export function modelSourceFrom(embeddings: Config['embeddings']): ModelSource {
  return { modelsDir: embeddings.modelsDir, cacheDir: embeddings.cacheDir };
}

export function applyModelSource(source: ModelSource): void {
  if (source.modelsDir) {
    env.localModelPath = asFolderPath(source.modelsDir);
    env.allowLocalModels = true;
    env.allowRemoteModels = false;
    // Nothing is downloaded, so no cache: a stale cached copy must not shadow the folder's files.
    env.useFSCache = false;
  } else {
    // Off, so a stray copy inside node_modules/@huggingface/transformers/models/ is never picked up.
    env.allowLocalModels = false;
    env.allowRemoteModels = true;
    env.useFSCache = true;
    env.cacheDir = asFolderPath(source.cacheDir);
  }
}

/** The folder that holds (or will hold, once downloaded) a model's files. */
export function modelFolder(source: ModelSource, model: string): string {
  return `${asFolderPath(source.modelsDir ?? source.cacheDir)}${model}/`;
}

/** Where a model is looked for, in words for logs and errors. */
export function describeModelSource(source: ModelSource, model: string): string {
  return source.modelsDir
    ? `the local folder ${modelFolder(source, model)} (MODELS_DIR; downloads off)`
    : `the Hugging Face hub, cached in ${modelFolder(source, model)} (MODELS_CACHE_DIR)`;
}

/**
 * The message for a model (or its tokenizer) that failed to load: which model, where it was looked
 * for, why, and how to fix it. Built only from configuration names and paths, never secrets.
 */
export function explainModelLoadFailure(
  model: string,
  dtype: Config['embeddings']['dtype'],
  source: ModelSource,
  cause: unknown,
): string {
  const reason = (typeof cause === 'string' ? cause : loadFailureReason(cause)).replace(/\.$/, '');
  const weightsFile = dtype === 'q8' ? 'onnx/model_quantized.onnx' : 'onnx/model.onnx';
  const fix = source.modelsDir
    ? `Put the model in that folder (config.json, tokenizer.json, tokenizer_config.json and ${weightsFile} for EMBEDDING_DTYPE=${dtype}), ` +
      'point MODELS_DIR at the folder that holds it, or unset MODELS_DIR and run `npm run models:pull` to download it.'
    : 'Run `npm run models:pull` where huggingface.co is reachable (it fills MODELS_CACHE_DIR; copy that folder here), ' +
      `or set MODELS_DIR to a folder holding ${model}/ with ${weightsFile} for EMBEDDING_DTYPE=${dtype}.`;
  return `Embedding model "${model}" could not be loaded from ${describeModelSource(source, model)}: ${reason}. ${fix}`;
}

/** An error's message plus its network cause ("fetch failed" alone does not say that DNS failed). */
export function loadFailureReason(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause as { code?: unknown; hostname?: unknown; message?: unknown } | undefined;
  const detail = cause?.code ? [cause.code, cause.hostname].filter(Boolean).join(' ') : cause?.message;
  return detail ? `${error.message} (${String(detail)})` : error.message;
}

function asFolderPath(folder: string): string {
  const absolute = resolve(folder);
  return absolute.endsWith(sep) ? absolute : `${absolute}${sep}`;
}
