import { z } from 'zod';

/**
 * A passage an answer cites: stored in the message's `citations` column, sent with `chat:done`,
 * rendered by clients. Depends on zod only, on purpose, so the relay contract (and the web client,
 * which imports its types) can name it without pulling in the ORM. The schema is the one source:
 * the type is inferred from it and test/unit/realtimeDocs.test.ts checks docs/realtime.md against it.
 */
export const citationSchema = z.object({
  n: z.number(),
  documentId: z.string(),
  chunkId: z.string(),
  filename: z.string(),
  page: z.number().nullable().optional(),
  snippet: z.string(),
  score: z.number(),
});

export type Citation = z.infer<typeof citationSchema>;
