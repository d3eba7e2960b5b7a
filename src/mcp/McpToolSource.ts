import { EventEmitter } from 'node:events';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import { ReadThroughCache } from '../cache/ReadThroughCache.ts';
import type { Orm } from '../db/orm.ts';
import type { Logger } from '../logger.ts';
import type { RedisClient as Redis } from '../redis/connections.ts';
import type { SecretBox } from '../secrets/SecretBox.ts';
import {
  type Tool,
  type ToolContext,
  ToolInputError,
  type ToolOutcome,
  type ToolSource,
} from '../tools/Tool.ts';
import { McpClientPool } from './McpClientPool.ts';
import { headerRedactor, type McpServerConfig, readMcpServers } from './McpServerConfig.ts';
import { describeFailure, isTimeout, McpUnavailableError } from './mcpFailure.ts';
import { listenForMcpServerChanges } from './mcpServerChanges.ts';
import { type McpCallResult, McpToolError, toToolOutcome } from './mcpToolOutcome.ts';
import { exposedToolNames } from './toolNames.ts';

/** One tool as a server lists it. */
export interface McpToolInfo {
  name: string;
  description?: string;
  inputSchema: Record<string, unknown>;
}

export interface McpToolSourceOptions {
  /** Longest `tools()` waits for a server's list before answering with what it knows (ms). */
  listWaitMs?: number;
  /** A server's tool list is listed again after this long, announcement or not (ms). */
  toolsMaxAgeMs?: number;
  /** The registrations are read again after this long, announcement or not (ms). */
  serversMaxAgeMs?: number;
  /** After a failed listing, answers don't wait for that server again before this long (ms). */
  retryAfterMs?: number;
}

const DEFAULTS: Required<McpToolSourceOptions> = {
  listWaitMs: 2_000,
  toolsMaxAgeMs: 5 * 60_000,
  serversMaxAgeMs: 60_000,
  retryAfterMs: 15_000,
};

/** Longest a listing request may take (it goes on in the background after `listWaitMs`). */
const LIST_TIMEOUT_MS = 10_000;
const MAX_LIST_PAGES = 10;
const MAX_DESCRIPTION_CHARS = 1_024;
const SERVERS_KEY = 'servers';

/** The tool can't be used now (server unreachable, or disabled since it was offered). */
export class McpToolUnavailableError extends Error {
  constructor(toolName: string, reason: string) {
    super(`The tool ${toolName} is unavailable right now (${reason}). Answer without it.`);
    this.name = 'McpToolUnavailableError';
  }
}

interface Listing {
  connectionKey: string;
  /** The last tool list the server gave (null: none yet). */
  tools: McpToolInfo[] | null;
  listedAt: number;
  /** An announcement says it may have changed: the next answer waits (bounded) for a new list. */
  stale: boolean;
  failedAt?: number;
  error?: string;
  refreshing?: Promise<void>;
  /** The listing whose answer counts; a change announcement starts a new round. */
  round?: symbol;
}

/** Every page of a server's tool list. */
async function listAllTools(client: Client): Promise<McpToolInfo[]> {
  const tools: McpToolInfo[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < MAX_LIST_PAGES; page++) {
    const result = await client.listTools(cursor ? { cursor } : undefined, { timeout: LIST_TIMEOUT_MS });
    tools.push(...(result.tools as McpToolInfo[]));
    cursor = result.nextCursor;
    if (!cursor) break;
  }
  return tools;
}

const isEnabled = (server: McpServerConfig, tool: string) =>
  server.enabledTools === null || server.enabledTools.includes(tool);

/** The schema as the model gets it: an object schema, without the `$schema` tag some providers refuse. */
function modelParameters(schema: Record<string, unknown>): Record<string, unknown> {
  const { $schema: _ignored, ...rest } = schema;
  return { type: 'object', properties: {}, ...rest };
}

/**
 * The tools of every enabled MCP server, offered to the model as `<server>__<tool>`: the tool
 * loop asks once per answer. Registrations and tool lists are cached in memory; an admin's edit
 * (announced on Redis: `listen`) or the server's own list-changed notice makes the next answer
 * list again, and maximum ages cover a lost announcement. An unreachable server never fails an
 * answer: `tools()` answers within about `listWaitMs` with that server's last-known tools (or
 * none), and calling one of its tools gives a "tool unavailable" error the model reads.
 *
 * Emits `change` (server id or null) after an announcement was applied, and `toolsChanged`
 * (server id) when a server said its tool list changed.
 */
export class McpToolSource extends EventEmitter implements ToolSource {
  private readonly orm: Orm;
  private readonly box: SecretBox;
  private readonly logger: Logger;
  private readonly pool: McpClientPool;
  private readonly options: Required<McpToolSourceOptions>;
  private readonly listings = new Map<string, Listing>();
  private readonly registrations: ReadThroughCache<McpServerConfig[]>;

  constructor(deps: { orm: Orm; box: SecretBox; logger: Logger }, options: McpToolSourceOptions = {}) {
    super();
    this.orm = deps.orm;
    this.box = deps.box;
    this.logger = deps.logger;
    this.options = { ...DEFAULTS, ...options };
    this.registrations = new ReadThroughCache({ maxAgeMs: this.options.serversMaxAgeMs });
    this.pool = new McpClientPool({ onToolsChanged: (serverId) => this.toolsChanged(serverId) });
  }

  async tools(signal?: AbortSignal): Promise<Tool[]> {
    let servers: McpServerConfig[];
    try {
      servers = await this.servers();
    } catch (error) {
      this.logger.warn(
        { err: (error as Error).message },
        'MCP servers not read; answering without their tools',
      );
      return [];
    }
    const lists = await Promise.all(servers.map((server) => this.listed(server, signal)));
    return servers.flatMap((server, index) => this.toolsOf(server, lists[index]!));
  }

  /** What the source knows of each server's tools (for diagnostics and tests). */
  knownTools(serverId: string): { tools: McpToolInfo[] | null; error?: string } {
    const listing = this.listings.get(serverId);
    return { tools: listing?.tools ?? null, ...(listing?.error ? { error: listing.error } : {}) };
  }

  /** Applies an admin's change: the registrations are read again, the server's tools listed again. */
  invalidate(serverId: string | null): void {
    this.registrations.invalidate();
    const ids = serverId ? [serverId] : [...this.listings.keys()];
    for (const id of ids) {
      this.pool.forget(id);
      const listing = this.listings.get(id);
      if (listing) {
        listing.stale = true;
        listing.failedAt = undefined;
        listing.refreshing = undefined;
        listing.round = undefined;
      }
    }
    this.emit('change', serverId);
  }

  /** Applies every announced change; `subscriber` becomes a subscriber connection. Resolves once subscribed. */
  listen(subscriber: Redis, prefix: string): Promise<void> {
    return listenForMcpServerChanges(subscriber, prefix, this.logger, (serverId) =>
      this.invalidate(serverId),
    );
  }

  async close(): Promise<void> {
    await this.pool.close();
  }

  private toolsChanged(serverId: string): void {
    const listing = this.listings.get(serverId);
    if (listing) {
      listing.stale = true;
      listing.refreshing = undefined;
      listing.round = undefined;
    }
    this.emit('toolsChanged', serverId);
  }

  /** The enabled registrations, from memory while fresh. */
  private servers(): Promise<McpServerConfig[]> {
    return this.registrations.get(SERVERS_KEY, () => readMcpServers(this.orm.em.fork(), this.box));
  }

  /** The server's tools as known now, listing them first when needed (bounded wait). */
  private async listed(server: McpServerConfig, signal?: AbortSignal): Promise<McpToolInfo[]> {
    let listing = this.listings.get(server.id);
    if (listing && listing.connectionKey !== server.connectionKey) {
      // Another URL or other headers: what was listed belongs to the old server.
      this.listings.delete(server.id);
      listing = undefined;
    }
    const now = Date.now();
    if (listing && !listing.stale) {
      if (listing.tools && now - listing.listedAt < this.options.toolsMaxAgeMs) return listing.tools;
      if (listing.failedAt !== undefined && now - listing.failedAt < this.options.retryAfterMs)
        return listing.tools ?? [];
    }
    const refresh = this.refresh(server);
    // Known tools that merely aged: answer with them now, the new list arrives for later answers.
    if (listing?.tools && !listing.stale) return listing.tools;
    await boundedWait(refresh, this.options.listWaitMs, signal);
    return this.listings.get(server.id)?.tools ?? listing?.tools ?? [];
  }

  private refresh(server: McpServerConfig): Promise<void> {
    let listing = this.listings.get(server.id);
    if (!listing) {
      listing = { connectionKey: server.connectionKey, tools: null, listedAt: 0, stale: true };
      this.listings.set(server.id, listing);
    }
    const target = listing;
    if (target.refreshing) return target.refreshing;
    // A listing that began before a change announcement must not pass for one made after it.
    const round = Symbol('listing round');
    target.round = round;
    const refreshing = (async () => {
      try {
        const tools = await this.pool.use(server, undefined, listAllTools);
        if (target.round !== round) return;
        if (target.error) this.logger.info({ server: server.name }, 'MCP server reachable again');
        Object.assign(target, {
          tools,
          listedAt: Date.now(),
          stale: false,
          failedAt: undefined,
          error: undefined,
        });
      } catch (error) {
        if (target.round !== round) return;
        const message = describeFailure(error, server);
        if (target.error !== message)
          this.logger.warn({ server: server.name, err: message }, 'MCP server tools not listed');
        Object.assign(target, { stale: false, failedAt: Date.now(), error: message });
      } finally {
        if (target.round === round) target.refreshing = undefined;
      }
    })();
    target.refreshing = refreshing;
    return refreshing;
  }

  private toolsOf(server: McpServerConfig, tools: McpToolInfo[]): Tool[] {
    const names = exposedToolNames(
      server.name,
      tools.map((tool) => tool.name),
    );
    const byName = new Map(tools.map((tool) => [tool.name, tool]));
    // The server's own texts go to the model: a description or schema may quote a header too.
    const redactor = headerRedactor(server);
    const offered: Tool[] = [];
    for (const [exposed, original] of names) {
      if (!isEnabled(server, original)) continue;
      const info = byName.get(original)!;
      const about = redactor.redact((info.description ?? '').trim()) || original;
      offered.push({
        name: exposed,
        description: `[${server.name}] ${about}`.slice(0, MAX_DESCRIPTION_CHARS),
        parameters: modelParameters(redactor.redactDeep(info.inputSchema ?? {})),
        timeoutMs: server.timeoutMs,
        redactor,
        execute: (args, context) => this.call(server.id, exposed, original, args, context),
      });
    }
    return offered;
  }

  private async call(
    serverId: string,
    exposed: string,
    original: string,
    args: unknown,
    context: ToolContext,
  ): Promise<ToolOutcome> {
    const input = args ?? {};
    if (typeof input !== 'object' || Array.isArray(input))
      throw new ToolInputError('The arguments must be a JSON object.');
    // The registration as it is now: a tool disabled since it was offered is not called.
    let servers: McpServerConfig[];
    try {
      servers = await this.servers();
    } catch {
      throw new McpToolUnavailableError(exposed, 'its registration cannot be read');
    }
    const server = servers.find((candidate) => candidate.id === serverId);
    if (!server || !isEnabled(server, original))
      throw new McpToolUnavailableError(exposed, 'it was disabled');
    try {
      const result = await this.pool.use(server, context.signal, (client) =>
        client.callTool({ name: original, arguments: input as Record<string, unknown> }, undefined, {
          signal: context.signal,
          timeout: server.timeoutMs,
        }),
      );
      return toToolOutcome(server.name, original, result as McpCallResult, headerRedactor(server));
    } catch (error) {
      if (context.signal.aborted || error instanceof McpToolError) throw error;
      if (error instanceof McpUnavailableError) {
        this.logger.warn({ server: server.name, tool: original, err: error.message }, 'MCP tool unavailable');
        throw new McpToolUnavailableError(exposed, 'its server cannot be reached');
      }
      if (isTimeout(error))
        throw new McpToolError(`${exposed} did not answer within ${server.timeoutMs} ms.`);
      const message = describeFailure(error, server);
      if (error instanceof McpError && error.code === ErrorCode.InvalidParams)
        throw new ToolInputError(message);
      throw new McpToolError(message);
    }
  }
}

/** Waits for `promise` at most `ms`, or until `signal` aborts; never rejects. */
async function boundedWait(promise: Promise<unknown>, ms: number, signal?: AbortSignal): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  await Promise.race([
    promise.catch(() => {}),
    new Promise<void>((done) => {
      timer = setTimeout(done, ms);
      timer.unref();
      onAbort = done;
      signal?.addEventListener('abort', onAbort, { once: true });
    }),
  ]);
  clearTimeout(timer);
  if (onAbort) signal?.removeEventListener('abort', onAbort);
}
