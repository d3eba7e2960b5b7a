import type { Message } from '../db/entities/Message.ts';
import type { StreamEvent } from './events.ts';

export type TerminalEvent = Extract<StreamEvent, { event: 'chat:done' | 'chat:error' }>;

/** The stored facts of an ended answer that its final event carries. */
export type StoredAnswer = Pick<
  Message,
  | 'id'
  | 'status'
  | 'content'
  | 'error'
  | 'model'
  | 'promptTokens'
  | 'completionTokens'
  | 'ttftMs'
  | 'latencyMs'
  | 'citations'
> & { conversation: { id: string } };

/**
 * The final event of an answer, built from the stored message: what the worker announces when
 * the answer ends, and what a client gets who asks after the replay log has expired. Failed answers end with chat:error, the others with chat:done.
 */
export function doneFromStoredMessage(message: StoredAnswer): TerminalEvent {
  const conversationId = message.conversation.id;
  if (message.status === 'failed') {
    return {
      event: 'chat:error',
      data: {
        conversationId,
        messageId: message.id,
        code: 'llm_unavailable',
        message: message.error ?? 'The answer failed.',
        retryable: true,
      },
    };
  }
  return {
    event: 'chat:done',
    data: {
      conversationId,
      messageId: message.id,
      status: message.status === 'cancelled' ? 'cancelled' : 'complete',
      content: message.content,
      usage: { promptTokens: message.promptTokens ?? 0, completionTokens: message.completionTokens ?? 0 },
      citations: message.citations ?? [],
      model: message.model ?? null,
      ttftMs: message.ttftMs ?? null,
      latencyMs: message.latencyMs ?? null,
    },
  };
}
