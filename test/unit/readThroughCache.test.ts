import { expect } from 'chai';
import { ReadThroughCache } from '../../src/cache/ReadThroughCache.ts';

/** A load the test settles by hand, counting how often it was started. */
function loads<Value>() {
  const started: { resolve: (value: Value) => void; reject: (error: Error) => void }[] = [];
  const load = () =>
    new Promise<Value>((resolve, reject) => {
      started.push({ resolve, reject });
    });
  return { started, load };
}

const failureOf = (promise: Promise<unknown>) =>
  promise.then(
    () => null,
    (error: Error) => error.message,
  );

describe('ReadThroughCache', () => {
  let clock = 0;
  const now = () => clock;
  beforeEach(() => {
    clock = 1_000;
  });

  it('shares one load between concurrent readers, then serves the loaded value', async () => {
    const cache = new ReadThroughCache<string>({ maxAgeMs: 100, now });
    const { started, load } = loads<string>();
    const first = cache.get('k', load);
    const second = cache.get('k', load);
    expect(started).to.have.length(1);
    started[0]!.resolve('v1');
    expect(await first).to.equal('v1');
    expect(await second).to.equal('v1');
    expect(await cache.get('k', load)).to.equal('v1');
    expect(started).to.have.length(1);
  });

  it('loads again once the copy is as old as the maximum age (counted from the load start)', async () => {
    const cache = new ReadThroughCache<string>({ maxAgeMs: 100, now });
    const { started, load } = loads<string>();
    const first = cache.get('k', load);
    clock += 99;
    started[0]!.resolve('v1');
    await first;
    expect(await cache.get('k', load)).to.equal('v1');
    clock += 1;
    const again = cache.get('k', load);
    expect(started).to.have.length(2);
    started[1]!.resolve('v2');
    expect(await again).to.equal('v2');
  });

  it('with a maximum age of 0 loads on every call', () => {
    const cache = new ReadThroughCache<string>({ maxAgeMs: 0, now });
    const { started, load } = loads<string>();
    void cache.get('k', load);
    void cache.get('k', load);
    expect(started).to.have.length(2);
  });

  it('never keeps a load that started before an invalidation', async () => {
    const cache = new ReadThroughCache<string>({ maxAgeMs: 1_000, now });
    const { started, load } = loads<string>();
    const old = cache.get('k', load);
    cache.invalidate('k');
    const fresh = cache.get('k', load);
    expect(started).to.have.length(2);
    started[0]!.resolve('old');
    expect(await old).to.equal('old');
    // The old load settled after the new one started: readers still get the new load.
    const later = cache.get('k', load);
    expect(started).to.have.length(2);
    started[1]!.resolve('new');
    expect(await fresh).to.equal('new');
    expect(await later).to.equal('new');
  });

  it('does not keep a load that was invalidated while it was starting', async () => {
    const cache = new ReadThroughCache<string>({ maxAgeMs: 1_000, now });
    let calls = 0;
    const load = async () => {
      calls += 1;
      if (calls === 1) cache.invalidate(); // e.g. an announcement handled while the read began
      return `v${calls}`;
    };
    expect(await cache.get('k', load)).to.equal('v1');
    expect(await cache.get('k', load)).to.equal('v2');
    expect(await cache.get('k', load)).to.equal('v2');
  });

  it('does not keep a failed load (rejected or thrown)', async () => {
    const cache = new ReadThroughCache<string>({ maxAgeMs: 1_000, now });
    const { started, load } = loads<string>();
    const failing = cache.get('k', load);
    started[0]!.reject(new Error('database away'));
    expect(await failureOf(failing)).to.equal('database away');
    const thrown = cache.get('k', () => {
      throw new Error('sync');
    });
    expect(await failureOf(thrown)).to.equal('sync');
    const retried = cache.get('k', load);
    expect(started).to.have.length(2);
    started[1]!.resolve('back');
    expect(await retried).to.equal('back');
  });

  it('invalidates one key, or every key', async () => {
    const cache = new ReadThroughCache<string>({ maxAgeMs: 1_000, now });
    let calls = 0;
    const load = async () => `v${++calls}`;
    expect(await cache.get('a', load)).to.equal('v1');
    expect(await cache.get('b', load)).to.equal('v2');
    cache.invalidate('a');
    expect(await cache.get('a', load)).to.equal('v3');
    expect(await cache.get('b', load)).to.equal('v2');
    cache.invalidate();
    expect(await cache.get('a', load)).to.equal('v4');
    expect(await cache.get('b', load)).to.equal('v5');
  });
});
