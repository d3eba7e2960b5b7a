import { z } from 'zod';
import type { HistorySearch } from '../../retrieval/HistorySearch.ts';
import { defineTool } from '../defineTool.ts';

/** The hybrid search over the asking user's own past messages (GET /search's). */
export const searchHistoryTool = (history: HistorySearch) =>
  defineTool({
    name: 'search_history',
    description:
      "Search the user's earlier conversations with you. Returns matching messages with their conversation and date.",
    input: z
      .object({
        query: z.string().trim().min(1).max(500).describe('What to look for, in words'),
        limit: z.number().int().min(1).max(20).optional().describe('At most this many messages (default 5)'),
      })
      .strict(),
    execute: async ({ query, limit = 5 }, { userId, em }) => {
      const { items } = await history.search(em, userId, query, limit);
      if (items.length === 0) return { content: 'No earlier message matches.', summary: 'no messages found' };
      const content = items
        .map(
          (hit) =>
            `- ${hit.createdAt.toISOString().slice(0, 10)} in "${hit.conversationTitle ?? 'untitled'}" (${hit.role}): ${hit.snippet}`,
        )
        .join('\n');
      return { content, summary: `${items.length} message${items.length === 1 ? '' : 's'} found` };
    },
  });
