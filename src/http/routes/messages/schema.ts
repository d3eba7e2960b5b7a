import { z } from 'zod';

export const messageParams = z.object({ id: z.uuid() });

export const streamQuery = z.object({ afterSeq: z.coerce.number().int().min(0).default(0) }).strict();

/** Documented for OpenAPI; the route reads it with resumePosition (which validates it). */
export const streamHeaders = z.object({
  'Last-Event-ID': z
    .string()
    .optional()
    .describe('The last `id:` received (e.g. `12-0`), as a reconnecting EventSource sends it'),
});
