/**
 * A tool call an answer made, as stored in the message's `tool_calls` column and returned by the
 * API. Dependency-free like Citation, so the relay contract and the web client can name it.
 */
export interface ToolCallRecord {
  callId: string;
  name: string;
  /** The arguments as the model wrote them (JSON text, capped in length). */
  arguments: string;
  status: 'running' | 'complete' | 'error';
  summary: string | null;
  durationMs: number | null;
}
