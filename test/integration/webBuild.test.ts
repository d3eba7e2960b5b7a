import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { expect } from 'chai';
import { BUILD_MARK, ensureWebBuilt } from '../../scripts/buildWeb.ts';

/** A Vite project of its own (not web/, which another process may be building right now). */
async function fixtureProject(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'parley-web-build-'));
  await writeFile(
    join(dir, 'index.html'),
    '<!doctype html><html><head><script type="module" src="/main.js"></script></head><body></body></html>\n',
  );
  await writeMain(dir, 'first');
  // An ES module config, as web/'s is under the repository's package.json.
  await writeFile(join(dir, 'package.json'), '{ "type": "module", "private": true }\n');
  await writeFile(
    join(dir, 'vite.config.ts'),
    `export default { root: ${JSON.stringify(dir)}, build: { outDir: 'dist', emptyOutDir: true } };\n`,
  );
  return dir;
}

const writeMain = (dir: string, word: string) =>
  writeFile(
    join(dir, 'main.js'),
    `const words = [${Array.from({ length: 80 }, (_, i) => JSON.stringify(`${word}-${i}`)).join(', ')}];\ndocument.body.textContent = words.join(' ');\n`,
  );

const markTime = async (dist: string) => (await stat(join(dist, BUILD_MARK))).mtimeMs;
const scriptOf = async (dist: string) =>
  (await readdir(join(dist, 'assets'))).find((name) => name.endsWith('.js'))!;

describe('building the web app (scripts/buildWeb.ts)', function () {
  // Real Vite builds on a shared machine.
  this.timeout(120_000);
  let project: string;

  before(async () => {
    project = await fixtureProject();
  });
  after(() => rm(project, { recursive: true, force: true }));

  it('builds into dist with a .br and .gz of each compressible file, then skips while nothing changed', async () => {
    const dist = await ensureWebBuilt({ webDir: project });
    expect(dist).to.equal(join(project, 'dist'));
    const script = await scriptOf(dist);
    expect(script).to.match(/^main-[\w-]+\.js$|^index-[\w-]+\.js$/);
    expect(await readFile(join(dist, 'index.html'), 'utf8')).to.include(`/assets/${script}`);
    const original = await readFile(join(dist, 'assets', script));
    expect(brotliDecompressSync(await readFile(join(dist, 'assets', `${script}.br`)))).to.deep.equal(
      original,
    );
    expect(gunzipSync(await readFile(join(dist, 'assets', `${script}.gz`)))).to.deep.equal(original);
    // No build folder is left behind.
    expect((await readdir(project)).filter((name) => name.startsWith('.'))).to.deep.equal([]);

    const built = await markTime(dist);
    await ensureWebBuilt({ webDir: project });
    expect(await markTime(dist), 'rebuilt although nothing changed').to.equal(built);
  });

  it('rebuilds when a source changes, when the last build was not its own, and when forced', async () => {
    const dist = join(project, 'dist');
    const before = await scriptOf(dist);
    await writeMain(project, 'second');
    await ensureWebBuilt({ webDir: project });
    const after = await scriptOf(dist);
    expect(after, 'a new hash for new content').not.to.equal(before);

    // A dist without the mark (e.g. a bare `vite build`, without compressed files) is rebuilt.
    await rm(join(dist, BUILD_MARK));
    await ensureWebBuilt({ webDir: project });
    const rebuilt = await markTime(dist);

    await ensureWebBuilt({ webDir: project, force: true });
    expect(await markTime(dist)).to.be.greaterThan(rebuilt);
  });

  it('shares one build between concurrent callers', async () => {
    await writeMain(project, 'third');
    const [a, b] = [ensureWebBuilt({ webDir: project }), ensureWebBuilt({ webDir: project })];
    expect(a).to.equal(b);
    await a;
  });
});
