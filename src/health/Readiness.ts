import type { Orm } from '../db/orm.ts';
import type { EmbedderHealth } from '../embeddings/EmbedderHealth.ts';
import type { Queues } from '../queues/Queues.ts';
import { checkRedis, type RedisClient } from '../redis/connections.ts';
import { Redactor } from '../secrets/Redactor.ts';
import { checkError } from './checkError.ts';
import type { LlmHealth } from './LlmHealth.ts';
import type { McpHealth } from './McpHealth.ts';

export interface CheckResult {
  /** `degraded` is reported but doesn't make the service unready (advisory checks). */
  status: 'ok' | 'fail' | 'degraded';
  latencyMs: number;
  error?: string;
  details?: Record<string, unknown>;
}

export interface ReadinessReport {
  status: 'ready' | 'unavailable';
  failing: string[];
  checks: Record<string, CheckResult>;
}

type Check = () => Promise<Record<string, unknown> | undefined>;

const CHECK_TIMEOUT_MS = 2_000;

/**
 * Real checks of everything a request may touch. Each check has its own deadline so one hung
 * dependency makes the report fail fast instead of hanging the probe. Errors are reduced to a
 * one-line message: connection strings and credentials never reach the response.
 */
export class Readiness {
  private readonly checks: Record<string, Check>;

  private readonly llm?: LlmHealth;
  private readonly mcp?: McpHealth;
  private readonly secrets: () => Promise<Redactor>;
  private readonly fallbackSecrets: Redactor;

  constructor(deps: {
    orm: Orm;
    redis: RedisClient;
    queues: Queues;
    embedder?: EmbedderHealth;
    llm?: LlmHealth;
    /** Advisory too: reported only when MCP servers are registered. */
    mcp?: McpHealth;
    /**
     * Every secret the service sends (src/health/knownSecrets.ts): outside services' errors are
     * quoted in the report, so it is redacted with them. `fallbackSecrets` when they can't be read.
     */
    secrets?: () => Promise<Redactor>;
    fallbackSecrets?: Redactor;
  }) {
    this.llm = deps.llm;
    this.mcp = deps.mcp;
    this.secrets = deps.secrets ?? (async () => Redactor.none);
    this.fallbackSecrets = deps.fallbackSecrets ?? Redactor.none;
    this.checks = {
      postgres: async () => {
        await deps.orm.em.getConnection().execute('select 1');
        return undefined;
      },
      pgvector: async () => {
        const rows = await deps.orm.em
          .getConnection()
          .execute<{ extversion: string }[]>("select extversion from pg_extension where extname = 'vector'");
        if (rows.length === 0) throw new Error('the vector extension is not installed');
        return { version: rows[0]!.extversion };
      },
      redis: () => checkRedis(deps.redis),
      queues: async () => {
        const counts = await Promise.all(
          deps.queues.all().map(async (queue) => [
            queue.name,
            {
              ...(await queue.getJobCounts('waiting', 'active', 'delayed', 'failed')),
              workers: await queue.getWorkersCount(),
            },
          ]),
        );
        return Object.fromEntries(counts);
      },
      ...(deps.embedder ? { embedder: () => deps.embedder!.check() } : {}),
    };
  }

  async report(): Promise<ReadinessReport> {
    // Started with the other checks, not after them: a slow MCP probe overlaps their time.
    const mcpStarted = performance.now();
    const mcpStatus = this.mcp?.status();
    const secrets = withDeadline(this.secrets()).catch(() => this.fallbackSecrets);
    const entries = await Promise.all(
      Object.entries(this.checks).map(async ([name, check]) => [name, await runCheck(check)] as const),
    );
    const checks: Record<string, CheckResult> = Object.fromEntries(entries);
    if (this.llm) {
      const started = performance.now();
      const { status, error, ...details } = await this.llm.status();
      checks.llm = { status, latencyMs: elapsed(started), ...(error ? { error } : {}), details };
    }
    const mcp = await mcpStatus;
    if (mcp) {
      const { status, error, servers } = mcp;
      checks.mcp = {
        status,
        latencyMs: elapsed(mcpStarted),
        ...(error ? { error } : {}),
        details: { servers },
      };
    }
    const failing = entries.filter(([, result]) => result.status === 'fail').map(([name]) => name);
    return {
      status: failing.length === 0 ? 'ready' : 'unavailable',
      failing,
      checks: (await secrets).redactDeep(checks),
    };
  }
}

/** The promise, or a rejection after CHECK_TIMEOUT_MS: a hung dependency never hangs the report. */
async function withDeadline<T>(work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)),
        CHECK_TIMEOUT_MS,
      );
    });
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

async function runCheck(check: Check): Promise<CheckResult> {
  const started = performance.now();
  try {
    const details = await withDeadline(check());
    return { status: 'ok', latencyMs: elapsed(started), ...(details ? { details } : {}) };
  } catch (error) {
    return { status: 'fail', latencyMs: elapsed(started), error: checkError(error) };
  }
}

const elapsed = (started: number) => Math.round(performance.now() - started);
