import { Redactor } from '../secrets/Redactor.ts';
import type { ToolOutcome } from '../tools/Tool.ts';

/** Most of a tool's answer the model reads; beyond this it is cut (and says so). */
export const MAX_TOOL_CONTENT_CHARS = 16_000;
const MAX_ERROR_CHARS = 1_000;

/** The MCP result content parts this module reads (the SDK's CallToolResult content, loosely typed). */
interface ContentPart {
  type: string;
  text?: string;
  mimeType?: string;
  data?: string;
  uri?: string;
  name?: string;
  resource?: { uri?: string; mimeType?: string; text?: string };
}

export interface McpCallResult {
  content?: unknown;
  structuredContent?: unknown;
  isError?: boolean;
}

/** A tool answered with `isError`: its text goes back to the model as the tool's error. */
export class McpToolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'McpToolError';
  }
}

/** Text for the model: text parts as they are, anything else described in a line. */
function partText(part: ContentPart): string {
  switch (part.type) {
    case 'text':
      return part.text ?? '';
    case 'resource':
      return (
        part.resource?.text ??
        `[resource ${part.resource?.uri ?? ''} (${part.resource?.mimeType ?? 'binary'})]`
      );
    case 'resource_link':
      return `[resource link ${part.name ?? ''} ${part.uri ?? ''}]`.replace(/\s+]/, ']');
    case 'image':
    case 'audio':
      return `[${part.type} (${part.mimeType ?? 'unknown type'}, ${Math.floor(((part.data?.length ?? 0) * 3) / 4)} bytes) not shown]`;
    default:
      return `[${part.type} content not shown]`;
  }
}

const cap = (text: string, max: number) =>
  text.length <= max ? text : `${text.slice(0, max)}\n[cut: ${text.length - max} more characters]`;

/**
 * An MCP tool's result as a Tool outcome: the text the model reads (capped), and a one-line
 * summary for people that never repeats the result. An `isError` result throws McpToolError.
 * Either way the text is redacted first: a server may quote the headers it was sent.
 */
export function toToolOutcome(
  serverName: string,
  toolName: string,
  result: McpCallResult,
  redactor: Redactor = Redactor.none,
): ToolOutcome {
  const parts = Array.isArray(result.content) ? (result.content as ContentPart[]) : [];
  let text = parts.map(partText).join('\n');
  if (!text && result.structuredContent !== undefined) text = JSON.stringify(result.structuredContent);
  text = redactor.redact(text);
  if (result.isError)
    throw new McpToolError(cap(text || `${toolName} failed without a message`, MAX_ERROR_CHARS));
  const nonText = parts.filter((part) => part.type !== 'text').length;
  return {
    content: cap(text, MAX_TOOL_CONTENT_CHARS),
    summary: `${serverName} answered: ${text.length} characters${nonText ? `, ${nonText} non-text part(s)` : ''}`,
  };
}
