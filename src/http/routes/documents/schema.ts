import { z } from 'zod';
import { pageQuerySchema } from '../../pagination.ts';

export const documentParams = z.object({ id: z.uuid() });

export const listDocumentsQuery = pageQuerySchema.strict();

/** The multipart body of an upload (documented for OpenAPI; multer reads the actual stream). */
export const uploadDocumentBody = z.object({
  file: z.string().meta({ format: 'binary', description: 'A PDF, plain-text or Markdown file' }),
});
