import { resolve } from 'node:path';
import { type ProgressInfo, pipeline } from '@huggingface/transformers';
import { ConfigError, loadConfig } from '../src/config.ts';
import {
  applyModelSource,
  describeModelSource,
  explainModelLoadFailure,
  modelFolder,
  modelSourceFrom,
} from '../src/embeddings/modelSource.ts';

/**
 * `npm run models:pull`: downloads EMBEDDING_MODEL (tokenizer and weights for EMBEDDING_DTYPE) into
 * MODELS_CACHE_DIR so later start-ups need no network, or, with MODELS_DIR set, checks that the
 * local copy loads. Either way it embeds a probe and prints the vector dimension.
 */

const say = (line: string) => process.stdout.write(`${line}\n`);

async function pullModels(): Promise<void> {
  const config = loadConfig();
  const { model, dtype } = config.embeddings;
  const source = modelSourceFrom(config.embeddings);
  applyModelSource(source);
  say(
    `${source.modelsDir ? 'Checking' : 'Fetching'} ${model} (${dtype}) from ${describeModelSource(source, model)}`,
  );

  const filesSeen = new Set<string>();
  const progress_callback = (info: ProgressInfo) => {
    if (info.status === 'done' && !filesSeen.has(info.file)) {
      filesSeen.add(info.file);
      say(`  ${info.file}`);
    }
  };
  try {
    // The pipeline loads both the tokenizer and the weights for this dtype, as the embedder will.
    const extractor = await pipeline('feature-extraction', model, { dtype, progress_callback });
    const probe = await extractor(['dimension probe'], { pooling: 'mean', normalize: true });
    const dimensions = probe.dims.at(-1);
    await extractor.dispose();
    say(`Ready: ${model} gives ${dimensions}-dimensional vectors.`);
    if (!source.modelsDir) {
      say(`Stored in ${modelFolder(source, model)}`);
      say(
        `To run with no network at all, set MODELS_DIR=${resolve(source.cacheDir)} (it has the same layout).`,
      );
    }
    if (dimensions !== config.embeddings.dimensions) {
      console.error(
        `Warning: EMBEDDING_DIM is ${config.embeddings.dimensions}, so start-up will refuse this model ` +
          'until EMBEDDING_DIM and the schema (by a migration) match it.',
      );
    }
  } catch (error) {
    throw new Error(explainModelLoadFailure(model, dtype, source, error));
  }
}

try {
  await pullModels();
} catch (error) {
  console.error(error instanceof ConfigError || error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
}
