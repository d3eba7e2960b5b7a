import { ConversationSummarizer } from '../../src/chat/ConversationSummarizer.ts';
import { ConversationTitler } from '../../src/chat/ConversationTitler.ts';
import type { QueueName } from '../../src/config.ts';
import { IngestPipeline } from '../../src/ingest/IngestPipeline.ts';
import { createLlmProvider } from '../../src/llm/createLlmProvider.ts';
import { ModelCatalog } from '../../src/llm/ModelCatalog.ts';
import { Mailer } from '../../src/mail/Mailer.ts';
import { FollowUpRepair } from '../../src/maintenance/FollowUpRepair.ts';
import { ReplayLogJanitor } from '../../src/maintenance/ReplayLogJanitor.ts';
import { RetentionSweep } from '../../src/maintenance/RetentionSweep.ts';
import { StuckWorkSweeper } from '../../src/maintenance/StuckWorkSweeper.ts';
import type { JobCatalog } from '../../src/queues/jobs.ts';
import type { RedisClient as Redis } from '../../src/queues/redisConnections.ts';
import type { RealtimeEmitter } from '../../src/relay/emitter.ts';
import type { Notifier } from '../../src/relay/Notifier.ts';
import { DocumentRetriever } from '../../src/retrieval/DocumentRetriever.ts';
import { HistorySearch } from '../../src/retrieval/HistorySearch.ts';
import { MessageIndexer } from '../../src/retrieval/MessageIndexer.ts';
import type { Runtime } from '../../src/runtime.ts';
import type { SettingsCache } from '../../src/settings/SettingsCache.ts';
import type { ToolSource } from '../../src/tools/Tool.ts';
import type { Task } from '../Task.ts';
import { ChatDependencies } from './chatDependencies.ts';
import { EmbedMessagesTask } from './EmbedMessagesTask.ts';
import { GenerateReplyTask } from './GenerateReplyTask.ts';
import { GenerateTitleTask } from './GenerateTitleTask.ts';
import { IngestDocumentTask } from './IngestDocumentTask.ts';
import { MaintenanceRunTask } from './MaintenanceRunTask.ts';
import { ProbeTask } from './ProbeTask.ts';
import { SendVerificationEmailTask } from './SendVerificationEmailTask.ts';
import { SummarizeConversationTask } from './SummarizeConversationTask.ts';
import { SweepStuckWorkTask } from './SweepStuckWorkTask.ts';

/** Every job name of the catalog has its task: a job added to JobCatalog without one doesn't compile. */
export type TaskRegistry = { [Q in QueueName]: { [N in keyof JobCatalog[Q]]-?: Task<JobCatalog[Q][N]> } };

/** What a process may add to its tasks. */
export interface TaskOptions {
  /** Where answers find tools beyond the built-in ones (MCP servers). */
  toolSources?: ToolSource[];
}

/** Which task runs each job name of each queue. A queue's worker runs only its own tasks. */
export function createTasks(
  { config, logger, accessTokens, queues, metrics, embedder, orm, secrets }: Runtime,
  relay: {
    streamRedis: Redis;
    emitter: RealtimeEmitter;
    notify: Notifier;
    settings?: SettingsCache;
    models?: ModelCatalog;
  },
  options: TaskOptions = {},
): TaskRegistry {
  const { notify, settings, models, ...stream } = relay;
  const chatModel = { provider: createLlmProvider(config), config };
  const chat = new ChatDependencies({
    orm,
    config,
    logger,
    queues,
    provider: chatModel.provider,
    models: models ?? new ModelCatalog({ config, secrets, builtIn: chatModel.provider }),
    metrics,
    retriever: new DocumentRetriever(embedder, config.retrieval.minSimilarity),
    history: new HistorySearch(embedder, logger, config.retrieval.minSimilarity),
    toolSources: options.toolSources,
    settings,
    ...stream,
  });
  const sweeper = new StuckWorkSweeper({
    queues,
    ending: chat.ending,
    notify,
    logger,
    followUps: new FollowUpRepair({ queues, logger }),
  });
  const publicUrl = config.http.publicUrl ?? `http://localhost:${config.http.port}`;
  const mailer = new Mailer(config.smtpUrl, `Parley <no-reply@${new URL(publicUrl).hostname}>`, logger);
  return {
    chat: {
      'generate-reply': new GenerateReplyTask(chat),
      'generate-title': new GenerateTitleTask(new ConversationTitler(chatModel)),
      'summarize-conversation': new SummarizeConversationTask(new ConversationSummarizer(chatModel)),
    },
    ingest: {
      'ingest-document': new IngestDocumentTask({
        pipeline: new IngestPipeline({ embedder, chunking: config.chunking, embeddings: config.embeddings }),
        metrics,
      }),
      'embed-messages': new EmbedMessagesTask(new MessageIndexer(embedder)),
    },
    maintenance: {
      probe: new ProbeTask(),
      'maintenance-run': new MaintenanceRunTask({
        config,
        metrics,
        retention: new RetentionSweep(),
        replayLogs: new ReplayLogJanitor({
          redis: relay.streamRedis,
          prefix: config.redis.queuePrefix,
          ttlSeconds: config.stream.ttlSeconds,
        }),
        sweeper,
      }),
      'sweep-stuck-work': new SweepStuckWorkTask(sweeper),
      'send-verification-email': new SendVerificationEmailTask(mailer, accessTokens, publicUrl),
    },
  };
}
