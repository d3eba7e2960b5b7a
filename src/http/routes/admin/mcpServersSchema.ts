import { z } from 'zod';
import { MCP_SERVER_NAME_PATTERN } from '../../../mcp/toolNames.ts';
import { text } from '../../../validation/text.ts';
import { pageQuerySchema } from '../../pagination.ts';

/** Headers the Streamable HTTP transport sets itself, or that HTTP doesn't let a client choose. */
const RESERVED_HEADERS = new Set([
  'accept',
  'connection',
  'content-length',
  'content-type',
  'host',
  'keep-alive',
  'last-event-id',
  'mcp-protocol-version',
  'mcp-session-id',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);
const MAX_HEADERS = 20;

const headerName = text()
  .regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}$/, 'must be an HTTP header name')
  .refine((name) => !RESERVED_HEADERS.has(name.toLowerCase()), 'is set by the MCP transport itself');
// Rules that never repeat the value: a refused header value must not come back in the answer.
const headerValue = text()
  .max(8_192)
  .regex(/^[\t\x20-\x7e\x80-\xff]*$/, 'must be one line of visible characters');

const headers = z
  .record(headerName, headerValue)
  .refine((value) => Object.keys(value).length <= MAX_HEADERS, `at most ${MAX_HEADERS} headers`)
  .refine(
    (value) =>
      new Set(Object.keys(value).map((name) => name.toLowerCase())).size === Object.keys(value).length,
    'a header name appears twice (names are case-insensitive)',
  );

const url = text()
  .trim()
  .max(2_048)
  .refine((value) => URL.canParse(value) && ['http:', 'https:'].includes(new URL(value).protocol), {
    message: 'must be an http:// or https:// URL',
  })
  .refine((value) => !URL.canParse(value) || (!new URL(value).username && !new URL(value).password), {
    message: 'must not carry credentials: put them in headers, which are stored sealed and never shown',
  });

const name = text().regex(
  MCP_SERVER_NAME_PATTERN,
  'lowercase letters, digits and -, 1 to 24 characters, starting and ending with a letter or digit',
);
const enabledTools = z.array(text().min(1).max(128)).max(500).nullable();
const timeoutMs = z.number().int().min(1_000).max(300_000);

export const mcpServerIdParams = z.object({ id: z.uuid() });
export const listMcpServersQuery = pageQuerySchema.strict();

export const createMcpServerSchema = z
  .object({
    name,
    url,
    headers: headers.optional(),
    enabledTools: enabledTools.optional(),
    enabled: z.boolean().optional(),
    timeoutMs: timeoutMs.optional(),
  })
  .strict();

export const updateMcpServerSchema = z
  .object({
    name: name.optional(),
    url: url.optional(),
    /** Replaces every header; `{}` or null removes them all. */
    headers: headers.nullable().optional(),
    enabledTools: enabledTools.optional(),
    enabled: z.boolean().optional(),
    timeoutMs: timeoutMs.optional(),
  })
  .strict()
  .refine((input) => Object.keys(input).length > 0, { message: 'give at least one field to change' });

export type CreateMcpServerInput = z.infer<typeof createMcpServerSchema>;
export type UpdateMcpServerInput = z.infer<typeof updateMcpServerSchema>;
