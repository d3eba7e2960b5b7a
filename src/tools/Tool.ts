import type { EntityManager } from '@mikro-orm/core';
import type { Citation } from '../db/citation.ts';
import type { Redactor } from '../secrets/Redactor.ts';

/** What a tool is given when it runs: always on behalf of the user whose answer asked for it. */
export interface ToolContext {
  userId: string;
  conversationId: string;
  messageId: string;
  /** Aborted by a cancel, a shutdown or the tool's timeout: stop and return promptly. */
  signal: AbortSignal;
  /** A fork of the worker's entity manager, for this call only. */
  em: EntityManager;
  /** How many citations the answer holds already: a tool's citations are numbered after them. */
  citationOffset: number;
}

/** What a tool gives back: the text the model reads, and what people see of it. */
export interface ToolOutcome {
  /** For the model (may be long; the loop may cap it). */
  content: string;
  /** One short line for the relay and the stored message: never a secret, never the whole result. */
  summary: string;
  /** Passages the answer may cite (search_documents). */
  citations?: Citation[];
}

/**
 * One function the model may call. `parameters` is JSON Schema (built-in tools derive it from a
 * zod schema; MCP tools bring their own). `execute` gets the parsed JSON arguments; it throws
 * ToolInputError for arguments it rejects, and any error becomes a tool result the model reads.
 */
export interface Tool {
  readonly name: string;
  readonly description: string;
  readonly parameters: Record<string, unknown>;
  /** Longest a call may run before its signal aborts; the loop's default when absent. */
  readonly timeoutMs?: number;
  /**
   * Secrets the tool's answers may quote (an MCP server's header values): the loop hides them in
   * everything the tool gives back, before the model, a log line or a client sees it.
   */
  readonly redactor?: Redactor;
  execute(args: unknown, context: ToolContext): Promise<ToolOutcome>;
}

/** Where tools beyond the built-in ones come from (MCP servers); asked once per answer. */
export interface ToolSource {
  tools(signal?: AbortSignal): Promise<Tool[]>;
}

/** The model's arguments don't fit the tool: the message goes back to the model to correct. */
export class ToolInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ToolInputError';
  }
}
