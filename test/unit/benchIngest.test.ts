import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect } from 'chai';

const BENCH = fileURLToPath(new URL('../../bench/ingest.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Runs the ingest benchmark with only PATH and `env`; resolves with its exit code and stderr. */
async function bench(args: string[], env: Record<string, string>) {
  try {
    await promisify(execFile)(process.execPath, [BENCH, ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, ...env },
    });
    return { code: 0, stderr: '' };
  } catch (error) {
    const failed = error as { code: number; stderr: string };
    return { code: failed.code, stderr: failed.stderr };
  }
}

// Only the model check runs: every case stops before the bench touches a service.
describe('ingest benchmark model', () => {
  let empty: string;
  before(() => {
    empty = mkdtempSync(join(tmpdir(), 'parley-models-'));
  });
  after(() => rmSync(empty, { recursive: true, force: true }));

  it('defaults to the production embedding model in the models cache, and says how to get it', async () => {
    const result = await bench([], { MODELS_CACHE_DIR: empty });
    expect(result.code).to.equal(2);
    expect(result.stderr).to.include(join(empty, 'Xenova/all-MiniLM-L6-v2'));
    expect(result.stderr).to.include('npm run models:pull');
    expect(result.stderr).to.include('--model-dir');
  });

  it('takes a local folder and model by flags', async () => {
    const result = await bench(['--model-dir', empty, '--model', 'some-model'], {});
    expect(result.code).to.equal(2);
    expect(result.stderr).to.include(join(empty, 'some-model'));
  });
});
