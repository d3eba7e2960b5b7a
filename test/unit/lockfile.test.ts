import { readFileSync } from 'node:fs';
import { expect } from 'chai';

interface LockedPackage {
  version?: string;
  optionalDependencies?: Record<string, string>;
}

/**
 * `npm ci` rejects a lockfile that lacks any platform's optional build ("Missing: … from lock
 * file"), even one this machine never installs; an incomplete lockfile also makes `npm install`
 * rewrite it, leaving every fresh clone dirty. Node resolves a dependency in the nearest
 * node_modules up the tree, and so does this check.
 */
describe('package-lock.json', () => {
  const lock = JSON.parse(readFileSync(new URL('../../package-lock.json', import.meta.url), 'utf8')) as {
    packages: Record<string, LockedPackage>;
  };

  const resolve = (from: string, name: string): LockedPackage | undefined => {
    let base = from;
    for (;;) {
      const found = lock.packages[`${base ? `${base}/` : ''}node_modules/${name}`];
      if (found) return found;
      if (!base) return undefined;
      const cut = base.lastIndexOf('/node_modules/');
      base = cut === -1 ? '' : base.slice(0, cut);
    }
  };

  it("records every platform's build of each optional dependency", () => {
    const missing: string[] = [];
    for (const [path, entry] of Object.entries(lock.packages)) {
      for (const name of Object.keys(entry.optionalDependencies ?? {})) {
        if (!resolve(path, name)) missing.push(`${name} (optional dependency of ${path || 'the project'})`);
      }
    }
    expect(missing, 'run `npm install --package-lock-only` and commit the lockfile').to.deep.equal([]);
  });
});
