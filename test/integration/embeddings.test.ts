import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { AutoTokenizer } from '@huggingface/transformers';
import { expect } from 'chai';
import { loadConfig } from '../../src/config.ts';
import { EMBEDDING_DIMENSIONS } from '../../src/db/columns.ts';
import { assertEmbeddingDimensions } from '../../src/embeddings/dimensionCheck.ts';
import type { Embedder } from '../../src/embeddings/Embedder.ts';
import { createEmbedder, EmbedderPool } from '../../src/embeddings/EmbedderPool.ts';
import { createLogger } from '../../src/logger.ts';

const fixtureModels = fileURLToPath(new URL('../fixtures/models', import.meta.url));
const silent = createLogger('silent');

const testConfig = (overrides: Record<string, string> = {}) =>
  loadConfig({
    MODELS_DIR: fixtureModels,
    EMBEDDING_MODEL: 'tiny-bert-embed',
    EMBEDDING_DTYPE: 'q8',
    EMBEDDING_THREADS: '2',
    EMBEDDING_BATCH_SIZE: '8',
    ...overrides,
  });

const sentences = (count: number, label = 'sentence') =>
  Array.from(
    { length: count },
    (_, i) => `${label} ${i}: notes on queues, vectors and tokens, item ${i * 7}`,
  );
const norm = (vector: number[]) => Math.hypot(...vector);
const maxDifference = (a: number[], b: number[]) => Math.max(...a.map((value, i) => Math.abs(value - b[i]!)));

describe('embeddings: worker-thread pool (tiny offline model)', () => {
  let embedder: Embedder;

  before(() => {
    embedder = createEmbedder(testConfig(), silent);
  });
  after(() => embedder?.close());

  it('refuses countTokens before ready(), naming the fix', () => {
    expect(() => embedder.countTokens('hello')).to.throw(/await embedder\.ready\(\)/);
  });

  it('measures the dimension by embedding a probe (384, though config.json says hidden 16)', async () => {
    expect(await embedder.ready()).to.deep.equal({ dimensions: 384 });
    expect(await embedder.ready()).to.deep.equal({ dimensions: 384 }); // idempotent
    expect(embedder.model).to.equal('tiny-bert-embed');
  });

  it('returns one unit-length vector per text, in order, across batches and threads', async () => {
    const texts = sentences(100); // 13 batches of ≤ 8 over 2 threads
    const vectors = await embedder.embed(texts);
    expect(vectors).to.have.length(100);
    for (const vector of vectors) {
      expect(vector).to.have.length(384);
      expect(norm(vector)).to.be.closeTo(1, 1e-5);
    }
    const reversed = await embedder.embed([...texts].reverse());
    reversed.reverse();
    for (const [i, vector] of vectors.entries())
      expect(maxDifference(vector, reversed[i]!)).to.be.below(1e-5);
    for (const i of [0, 37, 99]) {
      const [alone] = await embedder.embed([texts[i]!]);
      expect(maxDifference(alone!, vectors[i]!)).to.be.below(1e-5);
    }
    expect(await embedder.embed([])).to.deep.equal([]);
  });

  it('is deterministic across calls and threads', async () => {
    const batch = sentences(8, 'determinism');
    // Two idle threads each take one of these at once, so the same batch runs on both threads.
    const [first, second] = await Promise.all([embedder.embed(batch), embedder.embed(batch)]);
    expect(first).to.deep.equal(second);
    expect(await embedder.embed(batch)).to.deep.equal(first);

    // The same text at positions that fall in different batches (batch size 8), beside different neighbours.
    const probe = 'the same text in every batch';
    const mixed = sentences(40, 'neighbour');
    for (const position of [0, 9, 18, 27, 39]) mixed[position] = probe;
    const vectors = await embedder.embed(mixed);
    const [alone] = await embedder.embed([probe]);
    for (const position of [0, 9, 18, 27, 39])
      expect(maxDifference(vectors[position]!, alone!)).to.be.below(1e-5);
  });

  it("counts tokens with the model's own tokenizer, without special tokens", async () => {
    const tokenizer = await AutoTokenizer.from_pretrained('tiny-bert-embed');
    expect(embedder.countTokens('Hello world')).to.equal(2); // [CLS] and [SEP] not counted
    for (const text of ['', 'Tokenization of unbelievably long-winded words!', ...sentences(5)]) {
      expect(embedder.countTokens(text)).to.equal(
        tokenizer.encode(text, { add_special_tokens: false }).length,
      );
    }
  });

  it('keeps the event loop turning while a large job is embedded', async () => {
    let ticks = 0;
    let running = true;
    const tick = () => {
      ticks += 1;
      if (running) setImmediate(tick);
    };
    setImmediate(tick);
    const vectors = await embedder.embed(sentences(500, 'bulk'));
    running = false;
    expect(vectors).to.have.length(500);
    // Turns, not time, so a slow machine can't make this flaky; a loop blocked by inference would barely turn.
    expect(ticks).to.be.above(500);
  });

  it('checks the measured dimension against EMBEDDING_DIM and the schema', async () => {
    await assertEmbeddingDimensions(embedder, 384, EMBEDDING_DIMENSIONS);
    let failure = await assertEmbeddingDimensions(embedder, 768, 384).catch((error: Error) => error);
    expect(failure).to.be.instanceOf(Error);
    expect(failure!.message)
      .to.match(/EMBEDDING_DIM is 768/)
      .and.match(/384-dimensional/)
      .and.match(/migration/);
    failure = await assertEmbeddingDimensions(embedder, 384, 768).catch((error: Error) => error);
    expect(failure!.message)
      .to.match(/EMBEDDING_DIM is 384/)
      .and.match(/vector\(768\)/)
      .and.match(/migration/);
  });

  it('explains a model missing from MODELS_DIR: which model, where, how to fix', async () => {
    const missing = createEmbedder(testConfig({ EMBEDDING_MODEL: 'no-such-model' }), silent);
    const failure = await missing.ready().catch((error: Error) => error);
    await missing.close();
    expect(failure).to.be.instanceOf(Error);
    const message = (failure as Error).message;
    expect(message).to.include('"no-such-model"');
    expect(message).to.include(join(fixtureModels, 'no-such-model'));
    expect(message).to.include('MODELS_DIR').and.include('npm run models:pull');
  });

  it('explains a model that is neither cached nor downloadable', async () => {
    const cacheDir = await mkdtemp(join(tmpdir(), 'parley-models-'));
    try {
      const config = testConfig({
        MODELS_DIR: '',
        MODELS_CACHE_DIR: cacheDir,
        EMBEDDING_MODEL: 'parley-test/absent',
      });
      const missing = createEmbedder(config, silent);
      const failure = await missing.ready().catch((error: Error) => error);
      await missing.close();
      const message = (failure as Error).message;
      expect(message).to.include('"parley-test/absent"').and.include('Hugging Face hub');
      expect(message).to.include(cacheDir).and.include('npm run models:pull').and.include('MODELS_DIR');
    } finally {
      await rm(cacheDir, { recursive: true, force: true });
    }
  });

  it('fails the batch of a crashed thread and replaces the thread', async () => {
    const realThread = new URL('../../src/embeddings/embeddingThread.ts', import.meta.url).href;
    // A thread that dies abruptly on one text, otherwise the real one.
    const crashingThread = new URL(
      `data:text/javascript,${encodeURIComponent(`
        import { parentPort } from 'node:worker_threads';
        parentPort.on('message', ({ texts }) => { if (texts.includes('crash here')) process.exit(3); });
        await import(${JSON.stringify(realThread)});`)}`,
    );
    const { embeddings } = testConfig();
    const pool = new EmbedderPool(
      {
        ...embeddings,
        threads: 1,
        source: { modelsDir: fixtureModels, cacheDir: embeddings.cacheDir },
        threadEntry: crashingThread,
      },
      silent,
    );
    try {
      await pool.ready();
      const failure = await pool.embed(['fine', 'crash here']).catch((error: Error) => error);
      expect((failure as Error).message)
        .to.match(/embedding thread crashed/)
        .and.match(/code 3/);
      const [vector] = await pool.embed(['fine']); // served by the replacement
      expect(vector).to.have.length(384);
    } finally {
      await pool.close();
    }
  });

  it('close() rejects pending work, refuses new work, and lets the process exit', async () => {
    const embedderModule = pathToFileURL(
      fileURLToPath(new URL('../../src/embeddings/EmbedderPool.ts', import.meta.url)),
    );
    const configModule = new URL('../../src/config.ts', import.meta.url);
    const loggerModule = new URL('../../src/logger.ts', import.meta.url);
    // In a child process, so "the process can exit" is observed, not assumed. No process.exit() in it.
    const script = `
      const { createEmbedder } = await import(${JSON.stringify(embedderModule.href)});
      const { loadConfig } = await import(${JSON.stringify(configModule.href)});
      const { createLogger } = await import(${JSON.stringify(loggerModule.href)});
      const config = loadConfig(${JSON.stringify({ MODELS_DIR: fixtureModels, EMBEDDING_MODEL: 'tiny-bert-embed', EMBEDDING_THREADS: '2', EMBEDDING_BATCH_SIZE: '8' })});
      const embedder = createEmbedder(config, createLogger('silent'));
      await embedder.ready();
      const texts = Array.from({ length: 2000 }, (_, i) => 'pending text number ' + i);
      const pending = embedder.embed(texts).then(() => 'resolved', (error) => 'rejected: ' + error.message);
      await embedder.close();
      console.log(await pending);
      console.log(await embedder.embed(['after close']).then(() => 'resolved', (error) => 'rejected: ' + error.message));`;
    const { stdout } = await promisify(execFile)(process.execPath, ['--eval', script], {
      timeout: 30_000,
    });
    expect(stdout.trim().split('\n')).to.deep.equal([
      'rejected: The embedder is closed: pending embedding work was cancelled',
      'rejected: The embedder is closed: pending embedding work was cancelled',
    ]);
  });
});
