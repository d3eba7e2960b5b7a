import type { Conversation } from '../db/entities/Conversation.ts';

export interface ConversationPresentation {
  id: string;
  title: string | null;
  mode: Conversation['mode'];
  /** A GET /models id; null: the admin's default model. */
  model: string | null;
  /** Whether answers may call tools (when the model supports them). */
  tools: boolean;
  createdAt: string;
  updatedAt: string;
  lastMessageAt: string;
  documents?: { id: string; filename: string; status: string }[];
}

/** The API shape of a conversation; its documents only when they were loaded. */
export const presentConversation = (conversation: Conversation): ConversationPresentation => ({
  id: conversation.id,
  title: conversation.title ?? null,
  mode: conversation.mode,
  model: conversation.model ?? null,
  tools: conversation.tools,
  createdAt: conversation.createdAt.toISOString(),
  updatedAt: conversation.updatedAt.toISOString(),
  lastMessageAt: conversation.lastMessageAt.toISOString(),
  ...(conversation.documents.isInitialized()
    ? {
        documents: conversation.documents
          .getItems()
          .map((document) => ({ id: document.id, filename: document.filename, status: document.status })),
      }
    : {}),
});
