import type { ConversationMode } from '../db/entities/Conversation.ts';
import type { DocumentRetriever } from '../retrieval/DocumentRetriever.ts';
import type { HistorySearch } from '../retrieval/HistorySearch.ts';
import { currentTimeTool } from './builtin/currentTime.ts';
import { readDocumentPageTool } from './builtin/readDocumentPage.ts';
import { searchDocumentsTool } from './builtin/searchDocuments.ts';
import { searchHistoryTool } from './builtin/searchHistory.ts';
import type { Tool, ToolSource } from './Tool.ts';

/** Built-in tools that grounded answers may use: their retrieval comes first, reading further is fine. */
const GROUNDED_TOOLS = new Set(['read_document_page']);

/**
 * The tools an answer may call: the built-in ones, then those of the tool sources (MCP servers).
 * A source's tool may not shadow a built-in one; a source that fails is skipped (logged by the
 * answer's `onSourceError`), so an unreachable server never fails an answer.
 */
export class ToolCatalog {
  private readonly retriever: DocumentRetriever;
  private readonly history: HistorySearch;
  private readonly sources: ToolSource[];

  constructor(deps: { retriever: DocumentRetriever; history: HistorySearch; sources?: ToolSource[] }) {
    this.retriever = deps.retriever;
    this.history = deps.history;
    this.sources = deps.sources ?? [];
  }

  /** Built once per topK value: deriving the JSON Schemas is not free, and answers are many. */
  private readonly built = new Map<number, Tool[]>();

  private builtins(topK: number): Tool[] {
    let tools = this.built.get(topK);
    if (!tools) {
      tools = [
        searchDocumentsTool(this.retriever, topK),
        readDocumentPageTool(),
        searchHistoryTool(this.history),
        currentTimeTool(),
      ];
      this.built.set(topK, tools);
    }
    return tools;
  }

  /** `topK`: passages per search (the runtime setting). */
  async forAnswer(answer: {
    mode: ConversationMode;
    topK: number;
    signal: AbortSignal;
    onSourceError: (error: Error) => void;
  }): Promise<Tool[]> {
    const builtins = this.builtins(answer.topK);
    if (answer.mode === 'grounded') return builtins.filter((tool) => GROUNDED_TOOLS.has(tool.name));
    const tools = new Map(builtins.map((tool) => [tool.name, tool]));
    const fromSources = await Promise.all(
      this.sources.map((source) =>
        source.tools(answer.signal).catch((error: Error) => {
          answer.onSourceError(error);
          return [];
        }),
      ),
    );
    for (const tool of fromSources.flat()) if (!tools.has(tool.name)) tools.set(tool.name, tool);
    return [...tools.values()];
  }
}
