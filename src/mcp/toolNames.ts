import { createHash } from 'node:crypto';

/** A server's name: the prefix of its tools' names, so short, lowercase, and never holding `__`. */
export const MCP_SERVER_NAME_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,22}[a-z0-9])?$/;

/** What the model providers accept as a function name (OpenAI's and Groq's rule). */
export const MODEL_TOOL_NAME_PATTERN = /^[a-zA-Z0-9_-]{1,64}$/;

const SEPARATOR = '__';
const MAX_NAME = 64;

const shortHash = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 6);

/**
 * `<server>__<tool>` for each of one server's tools, fitting MODEL_TOOL_NAME_PATTERN: characters
 * the model may not use become `_`, and a name that had to be cut or changed (or that would
 * collide with another) gets a short hash of the original, so each stays unique and stable.
 * Returns exposed name → the server's own name.
 */
export function exposedToolNames(server: string, tools: string[]): Map<string, string> {
  const names = new Map<string, string>();
  const room = MAX_NAME - server.length - SEPARATOR.length;
  for (const tool of tools) {
    const cleaned = tool.replace(/[^a-zA-Z0-9_-]/g, '_');
    let exposed = `${server}${SEPARATOR}${cleaned}`;
    if (cleaned !== tool || cleaned.length > room || names.has(exposed) || cleaned.length === 0) {
      exposed = `${server}${SEPARATOR}${cleaned.slice(0, room - 7)}_${shortHash(tool)}`;
    }
    if (names.has(exposed)) continue; // the same name twice in one listing: keep the first
    names.set(exposed, tool);
  }
  return names;
}
