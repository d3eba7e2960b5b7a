import { AnswerLifecycle } from '../../src/answers/AnswerLifecycle.ts';
import { ReplyContext } from '../../src/answers/context/ReplyContext.ts';
import { ToolLoop } from '../../src/answers/ToolLoop.ts';
import type { Config } from '../../src/config.ts';
import type { Orm } from '../../src/db/orm.ts';
import type { LlmProvider } from '../../src/llm/LlmProvider.ts';
import { ModelCatalog } from '../../src/llm/ModelCatalog.ts';
import type { Logger } from '../../src/logger.ts';
import type { Metrics } from '../../src/metrics/Metrics.ts';
import type { Queues } from '../../src/queues/Queues.ts';
import type { RedisClient as Redis } from '../../src/redis/connections.ts';
import type { RealtimeEmitter } from '../../src/relay/emitter.ts';
import { ReplayReader } from '../../src/relay/ReplayReader.ts';
import { type ResumePoint, type StreamTarget, TokenPublisher } from '../../src/relay/TokenPublisher.ts';
import type { DocumentRetriever } from '../../src/retrieval/DocumentRetriever.ts';
import type { HistorySearch } from '../../src/retrieval/HistorySearch.ts';
import { SettingsCache } from '../../src/settings/SettingsCache.ts';
import type { ToolSource } from '../../src/tools/Tool.ts';
import { ToolCatalog } from '../../src/tools/ToolCatalog.ts';

/** What the chat tasks share in a worker process. */
export class ChatDependencies {
  readonly config: Config;
  readonly provider: LlmProvider;
  /** Which models an answer may use, with their providers and fallbacks (see ModelCatalog). */
  readonly models: ModelCatalog;
  readonly queues: Queues;
  readonly logger: Logger;
  /** One connection for the emitter and the replay log, so both see events in the same order. */
  readonly streamRedis: Redis;
  readonly emitter: RealtimeEmitter;
  readonly replay: ReplayReader;
  readonly metrics: Metrics;
  readonly retriever: DocumentRetriever;
  /** Where every answer ends (see src/chat/AnswerLifecycle.ts). */
  readonly ending: AnswerLifecycle;
  /** What every answer's prompt is made of (see src/answers/context/ReplyContext.ts). */
  readonly context: ReplyContext;
  /** The runtime settings, read once per process until an admin changes one. */
  readonly settings: SettingsCache;
  /** The tools an answer may call: built-in ones and those of the tool sources. */
  readonly tools: ToolCatalog;
  /** Model calls and tool calls until the answer is written (see src/answers/ToolLoop.ts). */
  readonly loop: ToolLoop;

  constructor(deps: {
    orm: Orm;
    config: Config;
    provider: LlmProvider;
    /** Default: the built-in model only (`provider`), no configured providers' keys. */
    models?: ModelCatalog;
    queues: Queues;
    logger: Logger;
    streamRedis: Redis;
    emitter: RealtimeEmitter;
    metrics: Metrics;
    retriever: DocumentRetriever;
    history: HistorySearch;
    /** Tools beyond the built-in ones (MCP servers; tests' own tools). */
    toolSources?: ToolSource[];
    /** The process's cache, subscribed to settings changes (startWorkers); a private one otherwise. */
    settings?: SettingsCache;
  }) {
    this.settings = deps.settings ?? new SettingsCache(deps.config);
    this.retriever = deps.retriever;
    this.metrics = deps.metrics;
    this.config = deps.config;
    this.provider = deps.provider;
    this.models = deps.models ?? new ModelCatalog({ config: deps.config, builtIn: deps.provider });
    this.queues = deps.queues;
    this.logger = deps.logger;
    this.streamRedis = deps.streamRedis;
    this.emitter = deps.emitter;
    this.replay = new ReplayReader(deps.streamRedis, deps.config.redis.queuePrefix);
    this.context = new ReplyContext({
      retriever: deps.retriever,
      contextTokens: deps.config.chat.contextTokens,
    });
    this.tools = new ToolCatalog({
      retriever: deps.retriever,
      history: deps.history,
      sources: deps.toolSources,
    });
    this.loop = new ToolLoop({
      em: () => deps.orm.em.fork(),
      logger: deps.logger,
    });
    this.ending = new AnswerLifecycle({
      em: () => deps.orm.em.fork(),
      publisherFor: (target, resumeFrom) => this.publisher(target, resumeFrom),
      replay: this.replay,
      logger: deps.logger,
    });
  }

  publisher(target: StreamTarget, resumeFrom?: ResumePoint): TokenPublisher {
    const { queuePrefix } = this.config.redis;
    return new TokenPublisher(
      { redis: this.streamRedis, emitter: this.emitter, logger: this.logger },
      target,
      { prefix: queuePrefix, ...this.config.stream },
      resumeFrom,
    );
  }
}
