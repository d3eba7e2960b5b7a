import { z } from 'zod';
import type { DocumentRetriever } from '../../retrieval/DocumentRetriever.ts';
import { defineTool } from '../defineTool.ts';

/**
 * Hybrid retrieval over the asking user's ready documents. Its passages become the answer's
 * citations, numbered as the model sees them ([1], [2]…), like a grounded answer's.
 */
export const searchDocumentsTool = (retriever: DocumentRetriever, topK: number) =>
  defineTool({
    name: 'search_documents',
    description:
      "Search the user's uploaded documents. Returns numbered passages with their document and page; cite them as [n] in the answer.",
    input: z
      .object({
        query: z.string().trim().min(1).max(500).describe('What to look for, in words'),
        documentIds: z
          .array(z.uuid())
          .max(50)
          .optional()
          .describe('Only these documents (ids from earlier results); all ready documents when omitted'),
      })
      .strict(),
    execute: async ({ query, documentIds }, { userId, em, citationOffset }) => {
      // The retriever scopes by user in SQL: another user's document id simply finds nothing.
      const passages = await retriever.retrieve(em, {
        userId,
        documentIds: documentIds ?? null,
        question: query,
        topK,
      });
      if (passages.length === 0) return { content: 'No passage matches.', summary: 'no passages found' };
      const citations = passages.map((passage, index) => ({
        n: citationOffset + index + 1,
        documentId: passage.documentId,
        chunkId: passage.chunkId,
        filename: passage.filename,
        page: passage.page,
        snippet: passage.snippet,
        score: passage.score,
      }));
      const content = passages
        .map(
          (passage, index) =>
            `[${citations[index]!.n}] ${passage.filename}${passage.page ? `, page ${passage.page}` : ''} (document ${passage.documentId})\n${passage.content}`,
        )
        .join('\n\n');
      const files = new Set(passages.map((passage) => passage.filename)).size;
      return {
        content,
        summary: `${passages.length} passage${passages.length === 1 ? '' : 's'} from ${files} document${files === 1 ? '' : 's'}`,
        citations,
      };
    },
  });
