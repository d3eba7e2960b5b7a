import { AnswerEnding } from '../../src/chat/AnswerEnding.ts';
import { ReplyContext } from '../../src/chat/ReplyContext.ts';
import type { Config } from '../../src/config.ts';
import type { Orm } from '../../src/db/orm.ts';
import type { LlmProvider } from '../../src/llm/LlmProvider.ts';
import type { Logger } from '../../src/logger.ts';
import type { Metrics } from '../../src/metrics/Metrics.ts';
import type { Queues } from '../../src/queues/Queues.ts';
import type { RedisClient as Redis } from '../../src/queues/redisConnections.ts';
import type { RealtimeEmitter } from '../../src/relay/emitter.ts';
import { ReplayReader } from '../../src/relay/ReplayReader.ts';
import { type StreamTarget, TokenPublisher } from '../../src/relay/TokenPublisher.ts';
import type { DocumentRetriever } from '../../src/retrieval/DocumentRetriever.ts';
import { SettingsCache } from '../../src/settings/SettingsCache.ts';

/** What the chat tasks share in a worker process. */
export class ChatDependencies {
  readonly config: Config;
  readonly provider: LlmProvider;
  readonly queues: Queues;
  readonly logger: Logger;
  /** One connection for the emitter and the replay log, so both see events in the same order. */
  readonly streamRedis: Redis;
  readonly emitter: RealtimeEmitter;
  readonly replay: ReplayReader;
  readonly metrics: Metrics;
  readonly retriever: DocumentRetriever;
  /** Where every answer ends (see src/chat/AnswerEnding.ts). */
  readonly ending: AnswerEnding;
  /** What every answer's prompt is made of (see src/chat/ReplyContext.ts). */
  readonly context: ReplyContext;
  /** The runtime settings, read once per process until an admin changes one. */
  readonly settings: SettingsCache;

  constructor(deps: {
    orm: Orm;
    config: Config;
    provider: LlmProvider;
    queues: Queues;
    logger: Logger;
    streamRedis: Redis;
    emitter: RealtimeEmitter;
    metrics: Metrics;
    retriever: DocumentRetriever;
    /** The process's cache, subscribed to settings changes (startWorkers); a private one otherwise. */
    settings?: SettingsCache;
  }) {
    this.settings = deps.settings ?? new SettingsCache(deps.config);
    this.retriever = deps.retriever;
    this.metrics = deps.metrics;
    this.config = deps.config;
    this.provider = deps.provider;
    this.queues = deps.queues;
    this.logger = deps.logger;
    this.streamRedis = deps.streamRedis;
    this.emitter = deps.emitter;
    this.replay = new ReplayReader(deps.streamRedis, deps.config.redis.queuePrefix);
    this.context = new ReplyContext({
      retriever: deps.retriever,
      contextTokens: deps.config.chat.contextTokens,
    });
    this.ending = new AnswerEnding({
      em: () => deps.orm.em.fork(),
      publisherFor: (target, resumeFrom) => this.publisher(target, resumeFrom),
      replay: this.replay,
      logger: deps.logger,
    });
  }

  publisher(target: StreamTarget, resumeFrom?: { text: string; seq: number }): TokenPublisher {
    const { queuePrefix } = this.config.redis;
    return new TokenPublisher(
      { redis: this.streamRedis, emitter: this.emitter, logger: this.logger },
      target,
      { prefix: queuePrefix, ...this.config.stream },
      resumeFrom,
    );
  }
}
