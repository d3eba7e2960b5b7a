import { z } from 'zod';

export const messageParams = z.object({ id: z.uuid() });

export const streamQuery = z.object({ afterSeq: z.coerce.number().int().min(0).default(0) }).strict();
