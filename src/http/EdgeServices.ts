import type { AccessTokens } from '../auth/AccessTokens.ts';
import type { RefreshTokens } from '../auth/RefreshTokens.ts';
import type { ChatService } from '../chat/ChatService.ts';
import type { ModelChoice } from '../chat/ModelChoice.ts';
import type { Config } from '../config.ts';
import type { Orm } from '../db/orm.ts';
import type { DocumentLibrary } from '../documents/DocumentLibrary.ts';
import type { EmbedderHealth } from '../embeddings/EmbedderHealth.ts';
import type { Logger } from '../logger.ts';
import type { McpServerRegistry } from '../mcp/McpServerRegistry.ts';
import type { Metrics } from '../metrics/Metrics.ts';
import type { Queues } from '../queues/Queues.ts';
import type { LoginThrottle } from '../rateLimit/LoginThrottle.ts';
import type { RateLimiter } from '../rateLimit/RateLimiter.ts';
import type { Presence } from '../realtime/Presence.ts';
import type { RedisConnections } from '../redis/connections.ts';
import type { ReplayReader } from '../relay/ReplayReader.ts';
import type { HistorySearch } from '../retrieval/HistorySearch.ts';
import type { SecretBox } from '../secrets/SecretBox.ts';

/** What the HTTP routes work with; built once per edge process. */
export interface EdgeServices {
  config: Config;
  logger: Logger;
  orm: Orm;
  queues: Queues;
  accessTokens: AccessTokens;
  refreshTokens: RefreshTokens;
  limiter: RateLimiter;
  /** Failed sign-ins per account and per IP (login only). */
  loginThrottle: LoginThrottle;
  presence: Presence;
  metrics: Metrics;
  chat: ChatService;
  replay: ReplayReader;
  documents: DocumentLibrary;
  history: HistorySearch;
  /** Whether the embedding model is loaded: uploads are refused while it is not. */
  embedder: EmbedderHealth;
  /** Admins' MCP server registrations (src/mcp). */
  mcpServers: McpServerRegistry;
  /** For connections of their own (an SSE client's blocking read). */
  redis: RedisConnections;
  /** The models users may pick (GET /models), and the check of a conversation's choice. */
  models: ModelChoice;
  /** Seals provider API keys before they are stored. */
  secrets: SecretBox;
}
