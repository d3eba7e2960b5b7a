import type { Redis } from 'ioredis';
import type { Config } from '../../src/config.ts';
import type { LlmProvider } from '../../src/llm/LlmProvider.ts';
import type { Logger } from '../../src/logger.ts';
import type { Metrics } from '../../src/metrics/Metrics.ts';
import type { Queues } from '../../src/queues/Queues.ts';
import type { RealtimeEmitter } from '../../src/realtime/emitter.ts';
import type { DocumentRetriever } from '../../src/retrieval/DocumentRetriever.ts';
import { ReplayReader } from '../../src/stream/ReplayReader.ts';
import { type StreamTarget, TokenPublisher } from '../../src/stream/TokenPublisher.ts';

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

  constructor(deps: {
    config: Config;
    provider: LlmProvider;
    queues: Queues;
    logger: Logger;
    streamRedis: Redis;
    emitter: RealtimeEmitter;
    metrics: Metrics;
    retriever: DocumentRetriever;
  }) {
    this.retriever = deps.retriever;
    this.metrics = deps.metrics;
    this.config = deps.config;
    this.provider = deps.provider;
    this.queues = deps.queues;
    this.logger = deps.logger;
    this.streamRedis = deps.streamRedis;
    this.emitter = deps.emitter;
    this.replay = new ReplayReader(deps.streamRedis, deps.config.redis.queuePrefix);
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

  /** What an interrupted answer had already streamed, read back from its replay log. */
  async streamedSoFar(messageId: string): Promise<{ text: string; seq: number }> {
    let text = '';
    let seq = 0;
    for (const { event } of await this.replay.after(messageId, 0)) {
      if (event.event === 'chat:token' && event.data.seq === seq + 1) {
        text += event.data.delta;
        seq = event.data.seq;
      }
    }
    return { text, seq };
  }
}
