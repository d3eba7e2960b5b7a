import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

/**
 * The one typed configuration object, read from the environment once at start-up.
 * A bad value stops the process with a message naming the variable; secrets are never echoed.
 */

export const QUEUE_NAMES = ['chat', 'ingest', 'maintenance'] as const;
export type QueueName = (typeof QUEUE_NAMES)[number];

const emptyAsUndefined = (value: unknown) => (value === '' ? undefined : value);
const optionalString = z.preprocess(emptyAsUndefined, z.string().optional());
const intFrom = (fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER) =>
  z.preprocess(emptyAsUndefined, z.coerce.number().int().min(min).max(max).default(fallback));
const list = (fallback: string[]) =>
  z.preprocess(
    (value) =>
      typeof value === 'string'
        ? value
            .split(',')
            .map((item) => item.trim())
            .filter(Boolean)
        : value,
    z.array(z.string()).default(fallback),
  );
const urlWithProtocols = (protocols: string[]) =>
  z.preprocess(
    emptyAsUndefined,
    z
      .string()
      .refine((value) => URL.canParse(value) && protocols.includes(new URL(value).protocol), {
        message: `must be a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}`,
      })
      .optional(),
  );

/** "20/1m" → 20 requests per 60 s. Units: s, m, h. */
const rateLimit = (fallback: string) =>
  z.preprocess(
    emptyAsUndefined,
    z
      .string()
      .default(fallback)
      .transform((value, context) => {
        const match = /^(\d+)\s*\/\s*(\d*)\s*(s|m|h)$/.exec(value.trim());
        if (!match || Number(match[1]) < 1) {
          context.addIssue({
            code: 'custom',
            message: 'must look like 20/1m (requests per window; s, m or h)',
          });
          return z.NEVER;
        }
        const unitSeconds = { s: 1, m: 60, h: 3_600 }[match[3] as 's' | 'm' | 'h'];
        return { limit: Number(match[1]), windowSeconds: Number(match[2] || 1) * unitSeconds };
      }),
  );
const flag = (fallback: boolean) =>
  z.preprocess(
    (value) =>
      value === '' || value === undefined
        ? fallback
        : ['1', 'true', 'yes', 'on'].includes(String(value).toLowerCase()),
    z.boolean(),
  );

const environmentSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: intFrom(3000, 0, 65535),
  HOST: z.string().default('0.0.0.0'),
  PUBLIC_URL: urlWithProtocols(['http:', 'https:']),
  TRUST_PROXY: flag(false),
  MAX_JSON_BYTES: intFrom(256 * 1024, 1_024, 10 * 1024 * 1024),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DATA_DIR: z.string().default('.data'),

  DATABASE_URL: urlWithProtocols(['postgres:', 'postgresql:']),
  // Per process, held per statement: an edge's send is one statement (~1 ms), and CHAT_CONCURRENCY
  // jobs touch the database for tens of ms of a seconds-long answer, so 10 serves both; and ten
  // per process keeps about nine processes under Postgres' default max_connections (100).
  // The reasoning and the measurement: docs/configuration.md#sizing-the-database-pool.
  DATABASE_POOL_MAX: intFrom(10, 1, 200),
  REDIS_URL: urlWithProtocols(['redis:', 'rediss:']),
  // host:port,host:port of a Redis Cluster's nodes (any few; the rest are discovered). When set,
  // every Redis role (queues, relay, pub/sub, rate limits, presence) uses the cluster.
  REDIS_CLUSTER_NODES: z.preprocess(
    (value) =>
      typeof value === 'string'
        ? value
            .split(',')
            .map((item) => item.trim())
            .filter(Boolean)
        : value,
    z
      .array(
        z
          .string()
          .regex(/^[\w.-]+:\d{1,5}$/, 'each node must look like host:port')
          .transform((node) => {
            const at = node.lastIndexOf(':');
            return { host: node.slice(0, at), port: Number(node.slice(at + 1)) };
          })
          .refine((node) => node.port >= 1 && node.port <= 65535, 'a port must be 1 to 65535'),
      )
      .optional(),
  ),
  QUEUE_PREFIX: z
    .string()
    .regex(/^[\w-]+$/, 'letters, digits, _ and - only')
    .default('parley'),

  WORKER_QUEUES: list([...QUEUE_NAMES]).pipe(z.array(z.enum(QUEUE_NAMES)).min(1)),
  CHAT_CONCURRENCY: intFrom(50, 1, 1000),
  INGEST_CONCURRENCY: intFrom(1, 1, 64),
  MAINTENANCE_CONCURRENCY: intFrom(1, 1, 64),
  SHUTDOWN_TIMEOUT_MS: intFrom(25_000, 0, 600_000),

  GROQ_API_KEY: optionalString,
  GROQ_BASE_URL: urlWithProtocols(['http:', 'https:']),
  GROQ_MODEL: z.string().default('llama-3.1-8b-instant'),
  GROQ_TIMEOUT_MS: intFrom(60_000, 1_000, 600_000),
  GROQ_MAX_RETRIES: intFrom(2, 0, 10),
  GROQ_MODELS: list([]),
  GROQ_FALLBACKS: list([]),
  CHAT_CONTEXT_TOKENS: intFrom(8_000, 512, 1_000_000),
  STREAM_FLUSH_MS: intFrom(30, 1, 1_000),
  STREAM_FLUSH_CHARS: intFrom(512, 1, 65_536),
  STREAM_TTL_SECONDS: intFrom(3_600, 60, 7 * 24 * 3_600),
  JOB_LOCK_MS: intFrom(30_000, 1_000, 600_000),

  EMBEDDING_MODEL: z.string().default('Xenova/all-MiniLM-L6-v2'),
  EMBEDDING_DIM: intFrom(384, 1, 16_000),
  MODELS_DIR: optionalString,
  MODELS_CACHE_DIR: optionalString,
  EMBEDDING_DTYPE: z.enum(['q8', 'fp32']).default('q8'),
  EMBEDDING_BATCH_SIZE: intFrom(32, 1, 1024),
  EMBEDDING_THREADS: intFrom(1, 1, 64),
  RETRIEVAL_MIN_SIMILARITY: z.preprocess(
    (value) => (value === '' || value === undefined ? 0.3 : Number(value)),
    z.number().min(-1).max(1),
  ),
  CHUNK_TOKENS: intFrom(240, 32, 8_192),
  CHUNK_OVERLAP: z.preprocess(
    (value) => (value === '' || value === undefined ? 0.15 : Number(value)),
    z.number().min(0).max(0.5),
  ),

  ADMIN_EMAIL: z.preprocess(emptyAsUndefined, z.email().optional()),
  ADMIN_PASSWORD: z.preprocess(
    emptyAsUndefined,
    z.string().min(12, 'must be at least 12 characters').optional(),
  ),
  JWT_SECRET: z.preprocess(emptyAsUndefined, z.string().min(32, 'must be at least 32 characters').optional()),
  SECRETS_KEY: z.preprocess(
    emptyAsUndefined,
    z.string().min(32, 'must be at least 32 characters').optional(),
  ),
  ACCESS_TOKEN_TTL_SECONDS: intFrom(900, 30, 86_400),
  REFRESH_TOKEN_TTL_DAYS: intFrom(30, 1, 365),
  RATE_LIMIT_AUTH: rateLimit('20/1m'),
  RATE_LIMIT_MESSAGES: rateLimit('30/1m'),
  RATE_LIMIT_UPLOADS: rateLimit('30/1h'),
  LOGIN_FAILURES_PER_ACCOUNT: rateLimit('10/15m'),
  LOGIN_FAILURES_PER_IP: rateLimit('100/15m'),

  METRICS_TOKEN: z.preprocess(
    emptyAsUndefined,
    z.string().min(16, 'must be at least 16 characters').optional(),
  ),
  WORKER_METRICS_PORT: intFrom(0, 0, 65535),
  RETENTION_DAYS: intFrom(30, 0, 36_500),
  RETENTION_CRON: z.string().trim().min(9).default('17 3 * * *'),
  MAX_UPLOAD_BYTES: intFrom(10 * 1024 * 1024, 1, 1024 * 1024 * 1024),
  SMTP_URL: urlWithProtocols(['smtp:', 'smtps:']),
  CORS_ORIGINS: list([]),
  WEB_ENABLED: flag(true),
  WEB_DIST_DIR: optionalString,
});

export type Environment = z.infer<typeof environmentSchema>;

/** Where `npm run build:web` writes the web app: `web/dist` of this checkout, wherever it runs from. */
export const DEFAULT_WEB_DIST_DIR = fileURLToPath(new URL('../web/dist', import.meta.url));

/** Every variable the configuration reads (.env.example must document each). */
export const ENVIRONMENT_VARIABLES = Object.keys(environmentSchema.shape);

export interface RateLimitRule {
  limit: number;
  windowSeconds: number;
}

/** A Redis Cluster node's address (REDIS_CLUSTER_NODES). */
export interface HostPort {
  host: string;
  port: number;
}

export interface Config {
  env: Environment['NODE_ENV'];
  http: {
    port: number;
    host: string;
    publicUrl?: string;
    trustProxy: boolean;
    corsOrigins: string[];
    maxJsonBytes: number;
  };
  logLevel: Environment['LOG_LEVEL'];
  dataDir: string;
  /** No DATABASE_URL means the embedded PGlite database under dataDir. */
  database: { url?: string; poolMax: number };
  /**
   * No REDIS_URL means "try the default local Redis" (and, in the one-process mode, start a
   * private one). clusterNodes (REDIS_CLUSTER_NODES) means a Redis Cluster for every role.
   * queuePrefix namespaces every key and channel (BullMQ gets it hash-tagged on a cluster:
   * src/redis/keys.ts).
   */
  redis: { url?: string; clusterNodes?: HostPort[]; queuePrefix: string };
  workers: {
    queues: QueueName[];
    concurrency: Record<QueueName, number>;
    shutdownTimeoutMs: number;
    /** How long a job's lock lasts; a killed worker's job is recovered after about this long. */
    lockMs: number;
  };
  groq: {
    apiKey?: string;
    baseURL?: string;
    model: string;
    timeoutMs: number;
    maxRetries: number;
    /** Groq models users may pick besides the admin's `model` setting. */
    models: string[];
    /** Model ids tried, in order, when a Groq model fails before its first token. */
    fallbacks: string[];
  };
  chat: { contextTokens: number };
  /** Token relay: batches go out every flushMs or at flushChars, replay buffers live ttlSeconds. */
  stream: { flushMs: number; flushChars: number; ttlSeconds: number };
  embeddings: {
    model: string;
    dimensions: number;
    /** A folder of local models (offline): `<modelsDir>/<model id>/`; remote downloads are then off. */
    modelsDir?: string;
    /** Where downloaded models are kept (default `<dataDir>/models`). */
    cacheDir: string;
    dtype: 'q8' | 'fp32';
    batchSize: number;
    /** Worker threads computing embeddings in one process. */
    threads: number;
  };
  /** Document chunking: target tokens per chunk (model tokenizer) and the share repeated between chunks. */
  chunking: { tokens: number; overlap: number };
  /** A passage found only by meaning must be at least this similar (cosine) to count as relevant. */
  retrieval: { minSimilarity: number };
  admin: { email?: string; password?: string };
  auth: {
    jwtSecret?: string;
    /** Encrypts the API keys of admin-configured providers (default: derived from the JWT secret). */
    /** Keys the sealing of stored third-party secrets; unset: derived from the JWT secret. */
    secretsKey?: string;
    accessTokenTtlSeconds: number;
    refreshTokenTtlDays: number;
  };
  rateLimits: { auth: RateLimitRule; messages: RateLimitRule; uploads: RateLimitRule };
  /** Failed sign-ins allowed per account and per client IP before login is refused for a while. */
  loginFailures: { perAccount: RateLimitRule; perIp: RateLimitRule };
  /** Bearer token /metrics asks for (none: open); workers serve metrics on workerPort (0: off). */
  metrics: { token?: string; workerPort: number };
  retentionDays: number;
  /** When the maintenance run happens (cron, UTC). */
  retentionCron: string;
  maxUploadBytes: number;
  smtpUrl?: string;
  /** The built web app the edge serves at `/` (off: an API-only edge). */
  web: { enabled: boolean; distDir: string };
}

export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

export function loadConfig(source: NodeJS.ProcessEnv = process.env): Config {
  const parsed = environmentSchema.safeParse(source);
  if (!parsed.success) {
    // Name the variable and the rule, never the value: it may be a secret.
    throw new ConfigError(parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`));
  }
  const e = parsed.data;
  return {
    env: e.NODE_ENV,
    http: {
      port: e.PORT,
      host: e.HOST,
      publicUrl: e.PUBLIC_URL,
      trustProxy: e.TRUST_PROXY,
      corsOrigins: e.CORS_ORIGINS,
      maxJsonBytes: e.MAX_JSON_BYTES,
    },
    logLevel: e.LOG_LEVEL,
    dataDir: e.DATA_DIR,
    database: { url: e.DATABASE_URL, poolMax: e.DATABASE_POOL_MAX },
    redis: {
      url: e.REDIS_URL,
      clusterNodes: e.REDIS_CLUSTER_NODES?.length ? e.REDIS_CLUSTER_NODES : undefined,
      queuePrefix: e.QUEUE_PREFIX,
    },
    workers: {
      queues: [...new Set(e.WORKER_QUEUES)],
      concurrency: {
        chat: e.CHAT_CONCURRENCY,
        ingest: e.INGEST_CONCURRENCY,
        maintenance: e.MAINTENANCE_CONCURRENCY,
      },
      shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
      lockMs: e.JOB_LOCK_MS,
    },
    groq: {
      apiKey: e.GROQ_API_KEY,
      baseURL: e.GROQ_BASE_URL,
      model: e.GROQ_MODEL,
      timeoutMs: e.GROQ_TIMEOUT_MS,
      maxRetries: e.GROQ_MAX_RETRIES,
      models: [...new Set(e.GROQ_MODELS)],
      fallbacks: [...new Set(e.GROQ_FALLBACKS)],
    },
    chat: { contextTokens: e.CHAT_CONTEXT_TOKENS },
    stream: {
      flushMs: e.STREAM_FLUSH_MS,
      flushChars: e.STREAM_FLUSH_CHARS,
      ttlSeconds: e.STREAM_TTL_SECONDS,
    },
    embeddings: {
      model: e.EMBEDDING_MODEL,
      dimensions: e.EMBEDDING_DIM,
      modelsDir: e.MODELS_DIR,
      cacheDir: e.MODELS_CACHE_DIR ?? `${e.DATA_DIR}/models`,
      dtype: e.EMBEDDING_DTYPE,
      batchSize: e.EMBEDDING_BATCH_SIZE,
      threads: e.EMBEDDING_THREADS,
    },
    chunking: { tokens: e.CHUNK_TOKENS, overlap: e.CHUNK_OVERLAP },
    retrieval: { minSimilarity: e.RETRIEVAL_MIN_SIMILARITY },
    admin: { email: e.ADMIN_EMAIL, password: e.ADMIN_PASSWORD },
    auth: {
      jwtSecret: e.JWT_SECRET,
      secretsKey: e.SECRETS_KEY,
      accessTokenTtlSeconds: e.ACCESS_TOKEN_TTL_SECONDS,
      refreshTokenTtlDays: e.REFRESH_TOKEN_TTL_DAYS,
    },
    rateLimits: { auth: e.RATE_LIMIT_AUTH, messages: e.RATE_LIMIT_MESSAGES, uploads: e.RATE_LIMIT_UPLOADS },
    loginFailures: { perAccount: e.LOGIN_FAILURES_PER_ACCOUNT, perIp: e.LOGIN_FAILURES_PER_IP },
    metrics: { token: e.METRICS_TOKEN, workerPort: e.WORKER_METRICS_PORT },
    retentionDays: e.RETENTION_DAYS,
    retentionCron: e.RETENTION_CRON,
    maxUploadBytes: e.MAX_UPLOAD_BYTES,
    smtpUrl: e.SMTP_URL,
    // A relative WEB_DIST_DIR is taken from the working directory, like DATA_DIR.
    web: { enabled: e.WEB_ENABLED, distDir: e.WEB_DIST_DIR ? resolve(e.WEB_DIST_DIR) : DEFAULT_WEB_DIST_DIR },
  };
}
