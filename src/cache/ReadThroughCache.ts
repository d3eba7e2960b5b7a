export interface ReadThroughCacheOptions {
  /** A copy (counted from when its load started) is used while younger than this; 0: never kept. */
  maxAgeMs: number;
  /** The clock (ms), injectable for tests. */
  now?: () => number;
}

interface Entry<Value> {
  value: Promise<Value>;
  startedAt: number;
}

/**
 * Why: settings, model providers and MCP registrations are each read from Postgres once per
 * process and kept until an admin's change is announced. Each of them needs the same three
 * guarantees, easy to get subtly wrong by hand: concurrent readers share one load, a copy is read
 * again after a maximum age (an announcement may be lost), and a load that started before an
 * invalidation never fills the cache (it may hold the old value). A failed load is not kept.
 */
export class ReadThroughCache<Value, Key = string> {
  private readonly maxAgeMs: number;
  private readonly now: () => number;
  private readonly entries = new Map<Key, Entry<Value>>();
  /** Bumped by every invalidation: a load that began before one is not kept. */
  private generation = 0;

  constructor(options: ReadThroughCacheOptions) {
    this.maxAgeMs = options.maxAgeMs;
    this.now = options.now ?? Date.now;
  }

  /** The value for `key`: the cached (or still loading) one while fresh, else what `load` gives. */
  get(key: Key, load: () => Promise<Value>): Promise<Value> {
    const cached = this.entries.get(key);
    if (cached && this.now() - cached.startedAt < this.maxAgeMs) return cached.value;
    const generation = this.generation;
    const startedAt = this.now();
    let value: Promise<Value>;
    try {
      value = load();
    } catch (error) {
      value = Promise.reject(error);
    }
    // An invalidation while `load` started (it may already hold the old value): not kept.
    if (this.generation !== generation) return value;
    const entry = { value, startedAt };
    this.entries.set(key, entry);
    // A failed load is not kept. (An invalidation dropped the entry already: a later load is kept.)
    value.catch(() => {
      if (this.entries.get(key) === entry) this.entries.delete(key);
    });
    return value;
  }

  /** Forgets `key` (every key without one): the next `get` loads, and no load running now is kept. */
  invalidate(key?: Key): void {
    this.generation += 1;
    if (key === undefined) this.entries.clear();
    else this.entries.delete(key);
  }
}
