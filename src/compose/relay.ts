import { AnswerLifecycle } from '../answers/AnswerLifecycle.ts';
import type { Config } from '../config.ts';
import type { Orm } from '../db/orm.ts';
import type { Logger } from '../logger.ts';
import type { RedisClient } from '../redis/connections.ts';
import { createRealtimeEmitter, type RealtimeEmitter } from '../relay/emitter.ts';
import { Notifier } from '../relay/Notifier.ts';
import { ReplayReader } from '../relay/ReplayReader.ts';
import { type ResumePoint, type StreamTarget, TokenPublisher } from '../relay/TokenPublisher.ts';

/** The relay's parts as a process uses them: publishers of answers, notices, the replay reader. */
export interface Relay {
  emitter: RealtimeEmitter;
  notify: Notifier;
  replay: ReplayReader;
  publisherFor(target: StreamTarget, resumeFrom?: ResumePoint): TokenPublisher;
}

/**
 * Builds the relay once per process, for the edge and the workers alike.
 * - `redis` publishes: one connection for the emitter and the replay log, so both see an answer's
 *   events in the same order.
 * - `read` (default: `redis`) is where replays are read: the edge reads on its fail-fast command
 *   connection, so a resume during a Redis outage fails rather than waits.
 * - `finishWaitMs`: how long ending an answer waits for Redis (TokenPublisher; unset: no limit).
 * - `emitter` replaces the Socket.IO emitter (tests that watch what is emitted).
 */
export function createRelay(
  { config, logger }: { config: Config; logger: Logger },
  redis: RedisClient,
  options: { read?: RedisClient; emitter?: RealtimeEmitter; finishWaitMs?: number } = {},
): Relay {
  const { queuePrefix } = config.redis;
  const emitter = options.emitter ?? createRealtimeEmitter(redis, queuePrefix);
  return {
    emitter,
    notify: new Notifier(emitter),
    replay: new ReplayReader(options.read ?? redis, queuePrefix),
    publisherFor: (target, resumeFrom) =>
      new TokenPublisher(
        { redis, emitter, logger },
        target,
        { prefix: queuePrefix, ...config.stream, finishWaitMs: options.finishWaitMs },
        resumeFrom,
      ),
  };
}

/** Where every answer of the process starts and ends, over that process's relay. */
export const createLifecycle = (orm: Orm, relay: Relay, logger: Logger) =>
  new AnswerLifecycle({
    em: () => orm.em.fork(),
    publisherFor: relay.publisherFor,
    replay: relay.replay,
    logger,
  });
