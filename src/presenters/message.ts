import type { Citation, Message, ToolCallRecord } from '../db/entities/Message.ts';

export interface MessagePresentation {
  id: string;
  conversationId: string;
  role: Message['role'];
  content: string;
  status: Message['status'];
  replyTo: string | null;
  clientMessageId: string | null;
  model: string | null;
  usage: { promptTokens: number; completionTokens: number } | null;
  ttftMs: number | null;
  latencyMs: number | null;
  error: string | null;
  citations: Citation[];
  toolCalls: ToolCallRecord[];
  createdAt: string;
}

export const presentMessage = (message: Message): MessagePresentation => ({
  id: message.id,
  conversationId: message.conversation.id,
  role: message.role,
  content: message.content,
  status: message.status,
  replyTo: message.replyTo ?? null,
  clientMessageId: message.clientMessageId ?? null,
  model: message.model ?? null,
  usage:
    message.promptTokens != null && message.completionTokens != null
      ? { promptTokens: message.promptTokens, completionTokens: message.completionTokens }
      : null,
  ttftMs: message.ttftMs ?? null,
  latencyMs: message.latencyMs ?? null,
  error: message.error ?? null,
  citations: message.citations ?? [],
  toolCalls: message.toolCalls ?? [],
  createdAt: message.createdAt.toISOString(),
});
