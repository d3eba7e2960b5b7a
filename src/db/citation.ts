/**
 * A passage an answer cites: stored in the message's `citations` column, sent with `chat:done`,
 * rendered by clients. Dependency-free on purpose, so the relay contract (and the web client,
 * which imports its types) can name it without pulling in the ORM.
 */
export interface Citation {
  n: number;
  documentId: string;
  chunkId: string;
  filename: string;
  page?: number | null;
  snippet: string;
  score: number;
}
