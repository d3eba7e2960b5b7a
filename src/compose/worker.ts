import { ConversationSummarizer } from '../answers/ConversationSummarizer.ts';
import { ConversationTitler } from '../answers/ConversationTitler.ts';
import { ReplyContext } from '../answers/context/ReplyContext.ts';
import { FollowUps } from '../answers/followUps.ts';
import { ReplyRun } from '../answers/ReplyRun.ts';
import { ToolLoop } from '../answers/ToolLoop.ts';
import type { QueueName } from '../config.ts';
import { IngestPipeline } from '../ingest/IngestPipeline.ts';
import { createLlmProvider } from '../llm/createLlmProvider.ts';
import type { LlmProvider } from '../llm/LlmProvider.ts';
import { ModelCatalog } from '../llm/ModelCatalog.ts';
import { OFFLINE_OPERATOR_NOTE } from '../llm/OfflineProvider.ts';
import { Mailer } from '../mail/Mailer.ts';
import { FollowUpRepair } from '../maintenance/FollowUpRepair.ts';
import { ReplayLogJanitor } from '../maintenance/ReplayLogJanitor.ts';
import { RetentionSweep } from '../maintenance/RetentionSweep.ts';
import { StuckWorkSweeper } from '../maintenance/StuckWorkSweeper.ts';
import { CancelFlags } from '../queues/cancels.ts';
import type { RealtimeEmitter } from '../relay/emitter.ts';
import { DocumentRetriever } from '../retrieval/DocumentRetriever.ts';
import { HistorySearch } from '../retrieval/HistorySearch.ts';
import { MessageIndexer } from '../retrieval/MessageIndexer.ts';
import { SettingsCache } from '../settings/SettingsCache.ts';
import type { ToolSource } from '../tools/Tool.ts';
import { ToolCatalog } from '../tools/ToolCatalog.ts';
import { createMcpToolSource } from './mcpToolSource.ts';
import { createLifecycle, createRelay, type Relay } from './relay.ts';
import type { Runtime } from './runtime.ts';

/** What a worker process may change in its parts (tests, and tools beyond the built-in ones). */
export interface WorkerOptions {
  /** Tools beyond the built-in ones and the MCP servers' (tests' own tools). */
  toolSources?: ToolSource[];
  /** The built-in model (default: Groq, or the offline stand-in without a key). */
  builtIn?: LlmProvider;
  /** The Socket.IO emitter (tests that watch what is emitted). */
  emitter?: RealtimeEmitter;
  /**
   * Whether the caches hear admins' changes and the MCP servers are offered (default: when the
   * process runs the chat queue). Tests that build parts by hand leave them off.
   */
  listen?: boolean;
}

/** A worker process's parts, each built once: what its tasks are thin adapters over. */
export interface WorkerParts {
  runtime: Runtime;
  relay: Relay;
  answers: { run: ReplyRun; titler: ConversationTitler; summarizer: ConversationSummarizer };
  documents: { pipeline: IngestPipeline; indexer: MessageIndexer };
  maintenance: {
    sweeper: StuckWorkSweeper;
    retention: RetentionSweep;
    replayLogs: ReplayLogJanitor;
    mailer: Mailer;
    publicUrl: string;
  };
}

/**
 * Builds a worker process's parts once: the relay, the caches (settings, models), the tools, the
 * answer's run and lifecycle, ingestion, maintenance. Every worker process and the tests that
 * call tasks directly build them here, so a part is made the same way everywhere.
 */
export async function composeWorker(
  runtime: Runtime,
  queueNames: QueueName[],
  options: WorkerOptions = {},
): Promise<WorkerParts> {
  const { config, logger, orm, redis, queues, embedder, secrets, metrics } = runtime;
  const listen = options.listen ?? queueNames.includes('chat');
  // Auto-pipelining: the commands issued in one tick (a batch's XADD and the emitter's PUBLISH,
  // other answers' batches) leave in one socket write, in order; a write was ~100 µs of CPU here.
  const streamRedis = redis.create('pubsub', 'relay', { enableAutoPipelining: true });
  const relay = createRelay(runtime, streamRedis, { emitter: options.emitter });
  const builtIn = options.builtIn ?? createLlmProvider(config);
  // The end user's answers say only that no model is set up; the operator learns which setting.
  if (builtIn.offline && queueNames.includes('chat')) logger.warn(OFFLINE_OPERATOR_NOTE);
  // Answers read the settings from memory; an admin's change (announced on Redis) drops the copy.
  // The same for the models of admin-configured providers (announced on the same channel).
  const settings = new SettingsCache(config);
  // Without a stand-in the catalog makes its own built-in clients (a fail-fast one for fallbacks).
  const models = new ModelCatalog({ config, secrets, builtIn: options.builtIn });
  // WebSocket providers keep a connection open: closed with the other connections at the end.
  runtime.shutdown.add('connections', 'model provider sockets', () => models.close());
  if (listen) {
    const subscriber = redis.create('pubsub', 'settings-subscriber');
    settings.listen(subscriber, config.redis.queuePrefix, logger);
    models.listen(subscriber, config.redis.queuePrefix, logger);
  }
  // Tools beyond the built-in ones: the admin-registered MCP servers' (cached, told of changes).
  const sources = [...(options.toolSources ?? []), ...(listen ? [await createMcpToolSource(runtime)] : [])];
  const retriever = new DocumentRetriever(embedder, config.retrieval.minSimilarity);
  const lifecycle = createLifecycle(orm, relay, logger);
  const run = new ReplyRun({
    context: new ReplyContext({ retriever, contextTokens: config.chat.contextTokens }),
    settings,
    models,
    tools: new ToolCatalog({
      retriever,
      history: new HistorySearch(embedder, logger, config.retrieval.minSimilarity),
      sources,
    }),
    loop: new ToolLoop({ em: () => orm.em.fork(), logger }),
    lifecycle,
    followUps: new FollowUps(queues),
    cancels: new CancelFlags(streamRedis, config.redis.queuePrefix),
    metrics,
    publisherFor: relay.publisherFor,
  });
  const chatModel = { provider: builtIn, config };
  const publicUrl = config.http.publicUrl ?? `http://localhost:${config.http.port}`;
  return {
    runtime,
    relay,
    answers: {
      run,
      titler: new ConversationTitler(chatModel),
      summarizer: new ConversationSummarizer(chatModel),
    },
    documents: {
      pipeline: new IngestPipeline({ embedder, chunking: config.chunking, embeddings: config.embeddings }),
      indexer: new MessageIndexer(embedder),
    },
    maintenance: {
      sweeper: new StuckWorkSweeper({
        queues,
        ending: lifecycle,
        notify: relay.notify,
        logger,
        followUps: new FollowUpRepair({ queues, logger }),
      }),
      retention: new RetentionSweep(),
      replayLogs: new ReplayLogJanitor({
        redis: streamRedis,
        prefix: config.redis.queuePrefix,
        ttlSeconds: config.stream.ttlSeconds,
      }),
      mailer: new Mailer(config.smtpUrl, `Parley <no-reply@${new URL(publicUrl).hostname}>`, logger),
      publicUrl,
    },
  };
}
