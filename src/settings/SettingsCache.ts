import type { EntityManager } from '@mikro-orm/core';
import { ReadThroughCache } from '../cache/ReadThroughCache.ts';
import type { Config } from '../config.ts';
import type { Logger } from '../logger.ts';
import { listenForAnnouncements } from '../redis/announcements.ts';
import type { RedisClient as Redis } from '../redis/connections.ts';
import { settingsChannel } from '../redis/keys.ts';
import { readSettings, type SettingValues } from './RuntimeSettings.ts';

/** Tells every process that caches settings to read them again. */
export const publishSettingsChanged = (redis: Redis, prefix: string) =>
  redis.publish(settingsChannel(prefix), '1');

/**
 * A lost announcement (Redis away while an admin changed a setting) must not keep a worker on
 * an old value for ever: a cached copy is read again after this long, whatever happens.
 */
export const SETTINGS_MAX_AGE_MS = 60_000;
const SETTINGS_KEY = 'settings';

/**
 * The runtime settings, read once per process and kept until an admin changes one: the admin
 * route publishes on `settingsChannel`, and `listen` drops the copy when that arrives (and after
 * the subscriber reconnects, since messages sent meanwhile are lost). So an answer doesn't read
 * the settings table, and a change still reaches a running worker without a restart.
 */
export class SettingsCache {
  private readonly config: Pick<Config, 'groq' | 'retentionDays'>;
  private readonly cache: ReadThroughCache<SettingValues>;

  constructor(config: Pick<Config, 'groq' | 'retentionDays'>, options: { maxAgeMs?: number } = {}) {
    this.config = config;
    this.cache = new ReadThroughCache({ maxAgeMs: options.maxAgeMs ?? SETTINGS_MAX_AGE_MS });
  }

  /** The settings; reads the database only when there is no fresh copy. */
  get(em: EntityManager): Promise<SettingValues> {
    return this.cache.get(SETTINGS_KEY, () => readSettings(em, this.config));
  }

  /** Forgets the copy: the next `get` reads the database (a read running now is not kept). */
  invalidate(): void {
    this.cache.invalidate();
  }

  /** Drops the copy whenever a change is announced; `subscriber` becomes a subscriber connection. */
  listen(subscriber: Redis, prefix: string, logger: Logger): void {
    void listenForAnnouncements(subscriber, settingsChannel(prefix), 'settings', logger, () =>
      this.invalidate(),
    );
  }
}
