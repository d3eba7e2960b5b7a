import type { EntityManager } from '@mikro-orm/core';
import { TERMINAL_MESSAGE_STATUSES } from '../db/entities/Message.ts';
import { scanKeys } from '../redis/cluster.ts';
import type { RedisClient as Redis } from '../redis/connections.ts';
import { replayKeyPattern } from '../redis/keys.ts';

/**
 * Replay logs (`{prefix}:stream:{messageId}`) get an expiry when their answer ends; a log whose
 * writer died has none. The janitor gives one to every log whose answer has ended or is gone.
 */
export class ReplayLogJanitor {
  private readonly redis: Redis;
  private readonly prefix: string;
  private readonly ttlSeconds: number;

  constructor(deps: { redis: Redis; prefix: string; ttlSeconds: number }) {
    this.redis = deps.redis;
    this.prefix = deps.prefix;
    this.ttlSeconds = deps.ttlSeconds;
  }

  /** Returns how many logs got their expiry. */
  async expireOrphans(em: EntityManager): Promise<number> {
    // The relay's own key layout, with an empty message id: every answer's log under this prefix.
    const pattern = replayKeyPattern(this.prefix);
    const prefix = pattern.slice(0, -1);
    let expired = 0;
    // On a cluster the logs spread over every master's slots: each master is scanned in turn.
    for await (const keys of scanKeys(this.redis, pattern)) {
      for (const key of keys) {
        if ((await this.redis.ttl(key)) !== -1) continue;
        const rows: { status: string }[] = await em
          .getConnection()
          .execute('select status from messages where id = ?', [key.slice(prefix.length)]);
        const finished = rows.length === 0 || TERMINAL_MESSAGE_STATUSES.includes(rows[0]!.status as never);
        if (finished) {
          await this.redis.expire(key, this.ttlSeconds);
          expired += 1;
        }
      }
    }
    return expired;
  }
}
