import type { SqlEntityManager } from '@mikro-orm/sql';
import { z } from 'zod';
import { defineTool } from '../defineTool.ts';
import { ToolInputError } from '../Tool.ts';

/**
 * The text of one page of the asking user's own ready document. Chunks keep the PDF page they
 * came from; documents without pages (text, Markdown) are read by section: section n is the
 * document's n-th chunk.
 */
export const readDocumentPageTool = () =>
  defineTool({
    name: 'read_document_page',
    description:
      "Read the full text of one page of one of the user's documents (for text and Markdown files: one section). Use the document id from search results.",
    input: z
      .object({
        documentId: z.uuid().describe('The document, as named in search results'),
        page: z
          .number()
          .int()
          .min(1)
          .max(100_000)
          .describe('Page number (section number for files without pages), from 1'),
      })
      .strict(),
    execute: async ({ documentId, page }, { userId, em }) => {
      // One statement, scoped by the user in SQL: another user's document reads as missing.
      const rows: Array<{ filename: string; paged: boolean; page_count: number; content: string | null }> =
        await (em as SqlEntityManager).execute(
          `select d.filename,
                  exists (select 1 from document_chunks p where p.document_id = d.id and p.page is not null) as paged,
                  coalesce((select max(p.page) from document_chunks p where p.document_id = d.id),
                           (select count(*) from document_chunks p where p.document_id = d.id))::int as page_count,
                  (select string_agg(c.content, '\n' order by c.ordinal) from document_chunks c
                    where c.document_id = d.id and c.user_id = d.user_id
                      and (c.page = ? or (c.page is null and c.ordinal = ?))) as content
             from documents d
            where d.id = ? and d.user_id = ? and d.status = 'ready'`,
          [page, page - 1, documentId, userId],
        );
      const found = rows[0];
      if (!found) throw new ToolInputError('no such document (or it is not ready yet)');
      const unit = found.paged ? 'page' : 'section';
      if (!found.content)
        throw new ToolInputError(`${found.filename} has no ${unit} ${page} (it has ${found.page_count})`);
      return {
        content: `${found.filename}, ${unit} ${page} of ${found.page_count}:\n${found.content}`,
        summary: `${found.filename}, ${unit} ${page}`,
      };
    },
  });
