import { type EntityManager, UniqueConstraintViolationException } from '@mikro-orm/core';
import { McpServerRegistration } from '../db/entities/McpServerRegistration.ts';
import { newId } from '../db/ids.ts';
import { conflict, notFound } from '../errors/AppError.ts';
import type { Logger } from '../logger.ts';
import type { RedisClient as Redis } from '../redis/connections.ts';
import type { SecretBox } from '../secrets/SecretBox.ts';
import { headerRedactor, type McpServerConfig, sealHeaders, toServerConfig } from './McpServerConfig.ts';
import { publishMcpServerChanged } from './mcpServerChanges.ts';
import { type McpProbeResult, probeMcpServer } from './probeMcpServer.ts';
import { exposedToolNames } from './toolNames.ts';

export interface McpServerFields {
  name: string;
  url: string;
  headers?: Record<string, string> | null;
  enabledTools?: string[] | null;
  enabled?: boolean;
  timeoutMs?: number;
}

export interface McpServerRefresh {
  reachable: boolean;
  error?: string;
  latencyMs: number;
  checkedAt: string;
  tools: { name: string; exposedName: string; description: string | null; enabled: boolean }[];
}

const nameTaken = (name: string) => conflict(`An MCP server named "${name}" already exists.`);

/**
 * Admins' MCP server registrations: writes seal the headers and announce the change, so every
 * worker's McpToolSource lists again (src/mcp/mcpServerChanges.ts). Validation of the input is
 * the caller's (the admin route's zod schema); this keeps the rules of storage and announcement.
 */
export class McpServerRegistry {
  private readonly box: SecretBox;
  private readonly announcer: Redis;
  private readonly prefix: string;
  private readonly logger: Logger;
  private readonly onProbed: (server: McpServerConfig, result: McpProbeResult) => void;

  constructor(deps: {
    box: SecretBox;
    /** A command connection the announcements are published on. */
    announcer: Redis;
    prefix: string;
    logger: Logger;
    /** Hears each refresh's probe (the edge's health report keeps it). */
    onProbed?: (server: McpServerConfig, result: McpProbeResult) => void;
  }) {
    this.box = deps.box;
    this.announcer = deps.announcer;
    this.prefix = deps.prefix;
    this.logger = deps.logger;
    this.onProbed = deps.onProbed ?? (() => {});
  }

  async list(em: EntityManager, page: { limit: number; cursor?: string }): Promise<McpServerRegistration[]> {
    return em.find(McpServerRegistration, page.cursor ? { id: { $gt: page.cursor } } : {}, {
      orderBy: { id: 'asc' },
      limit: page.limit + 1,
    });
  }

  async get(em: EntityManager, id: string): Promise<McpServerRegistration> {
    const server = await em.findOne(McpServerRegistration, { id }, { populate: ['headersSealed'] });
    if (!server) throw notFound('MCP server');
    return server;
  }

  async create(em: EntityManager, input: McpServerFields): Promise<McpServerRegistration> {
    if (await em.count(McpServerRegistration, { name: input.name })) throw nameTaken(input.name);
    const id = newId();
    const headers = input.headers ?? {};
    const server = em.create(McpServerRegistration, {
      id,
      name: input.name,
      url: input.url,
      headersSealed: sealHeaders(this.box, id, headers),
      headerNames: Object.keys(headers),
      enabledTools: input.enabledTools ?? null,
      enabled: input.enabled ?? true,
      timeoutMs: input.timeoutMs ?? 30_000,
    });
    await this.flushNamed(em, input.name);
    await this.announce(id);
    return server;
  }

  async update(
    em: EntityManager,
    id: string,
    input: Partial<McpServerFields>,
  ): Promise<McpServerRegistration> {
    const server = await this.get(em, id);
    if (input.name !== undefined && input.name !== server.name) {
      if (await em.count(McpServerRegistration, { name: input.name })) throw nameTaken(input.name);
      server.name = input.name;
    }
    if (input.url !== undefined) server.url = input.url;
    if (input.headers !== undefined) {
      const headers = input.headers ?? {};
      server.headersSealed = sealHeaders(this.box, id, headers);
      server.headerNames = Object.keys(headers);
    }
    if (input.enabledTools !== undefined) server.enabledTools = input.enabledTools;
    if (input.enabled !== undefined) server.enabled = input.enabled;
    if (input.timeoutMs !== undefined) server.timeoutMs = input.timeoutMs;
    // Every accepted edit counts as a change (updated_at moves even if the values are the same).
    server.updatedAt = new Date();
    await this.flushNamed(em, server.name);
    await this.announce(id);
    return server;
  }

  async remove(em: EntityManager, id: string): Promise<void> {
    const deleted = await em.nativeDelete(McpServerRegistration, { id });
    if (!deleted) throw notFound('MCP server');
    await this.announce(id);
  }

  /** Lists the server's tools now (a fresh connection), and has every worker list them again. */
  async refresh(em: EntityManager, id: string): Promise<McpServerRefresh> {
    const config = toServerConfig(this.box, await this.get(em, id));
    const probe = await probeMcpServer(config);
    this.onProbed(config, probe);
    await this.announce(id);
    const names = exposedToolNames(
      config.name,
      probe.tools.map((tool) => tool.name),
    );
    const byName = new Map(probe.tools.map((tool) => [tool.name, tool]));
    // The server's own texts: a description may quote the headers it was sent.
    const redactor = headerRedactor(config);
    const description = (name: string) => byName.get(name)?.description;
    return {
      reachable: probe.reachable,
      ...(probe.error ? { error: probe.error } : {}),
      latencyMs: probe.latencyMs,
      checkedAt: probe.checkedAt,
      tools: [...names].map(([exposedName, name]) => ({
        name,
        exposedName,
        description: description(name) === undefined ? null : redactor.redact(description(name)!),
        enabled: config.enabledTools === null || config.enabledTools.includes(name),
      })),
    };
  }

  private async flushNamed(em: EntityManager, name: string): Promise<void> {
    try {
      await em.flush();
    } catch (error) {
      // Two admins naming two servers alike at once: the unique index decides.
      if (error instanceof UniqueConstraintViolationException) throw nameTaken(name);
      throw error;
    }
  }

  /** Workers keep servers and tool lists in memory: tell them. A lost message ages out. */
  private async announce(serverId: string): Promise<void> {
    await publishMcpServerChanged(this.announcer, this.prefix, serverId).catch((error: Error) =>
      this.logger.warn({ err: error.message, serverId }, 'MCP server change not announced'),
    );
  }
}
