import { z } from 'zod';
import { text } from '../../../validation/text.ts';

export const searchQuery = z
  .object({
    q: text().trim().min(1).max(500),
    limit: z.coerce.number().int().min(1).max(50).default(10),
  })
  .strict();
