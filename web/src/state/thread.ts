import { effect, signal } from '@preact/signals';
import { api } from '../api/http.ts';
import type { Message, Page } from '../api/types.ts';
import { request } from '../realtime/socket.ts';
import { answerFromMessage, expectAnswer, resumeFailed, startedElsewhere } from './answers.ts';
import { touchConversation } from './conversations.ts';

/**
 * The messages of the conversation on screen. Only the newest page is fetched when it opens;
 * older pages come one at a time as the reader scrolls up, so a conversation of thousands of
 * messages opens as fast as a short one.
 */

export const threadId = signal<string | null>(null);
export const messages = signal<Message[]>([]);
export const olderCursor = signal<string | null>(null);
export const threadLoaded = signal(false);
export const loadingOlder = signal(false);
export const threadError = signal<string | null>(null);

const PAGE = 30;

const pagePath = (id: string, cursor: string | null) =>
  `/api/v1/conversations/${id}/messages?limit=${PAGE}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;

function adopt(items: Message[]) {
  for (const message of items) if (message.role === 'assistant') answerFromMessage(message);
}

/** Merges by id (UUIDv7: id order is time order), keeping unsent local messages last. */
function merge(current: Message[], incoming: Message[]): Message[] {
  const byId = new Map(current.map((message) => [message.id, message]));
  for (const message of incoming) byId.set(message.id, message);
  // A local (optimistic) message disappears once the server's copy with its clientMessageId is in.
  const confirmed = new Set(incoming.map((message) => message.clientMessageId).filter(Boolean));
  const merged = [...byId.values()].filter(
    (message) => !(message.id.startsWith('local-') && confirmed.has(message.clientMessageId)),
  );
  const local = merged.filter((message) => message.id.startsWith('local-'));
  const stored = merged
    .filter((message) => !message.id.startsWith('local-'))
    .sort((a, b) => (a.id < b.id ? -1 : 1));
  return [...stored, ...local];
}

export async function openThread(id: string) {
  threadId.value = id;
  messages.value = [];
  olderCursor.value = null;
  threadLoaded.value = false;
  threadError.value = null;
  try {
    const page = await api<Page<Message>>('GET', pagePath(id, null));
    if (threadId.value !== id) return;
    adopt(page.items);
    messages.value = page.items;
    olderCursor.value = page.nextCursor;
  } catch (error) {
    if (threadId.value === id) threadError.value = (error as Error).message;
  } finally {
    if (threadId.value === id) threadLoaded.value = true;
  }
}

export function closeThread() {
  threadId.value = null;
  messages.value = [];
  olderCursor.value = null;
  threadLoaded.value = false;
}

let olderLoad: Promise<void> | null = null;

/** The next older page; callers during a load share it (a jump waits for the scroll's load). */
export function loadOlder(): Promise<void> {
  const id = threadId.value;
  const cursor = olderCursor.value;
  if (!id || !cursor) return Promise.resolve();
  olderLoad ??= (async () => {
    loadingOlder.value = true;
    try {
      const page = await api<Page<Message>>('GET', pagePath(id, cursor));
      if (threadId.value !== id) return;
      adopt(page.items);
      messages.value = merge(messages.value, page.items);
      olderCursor.value = page.nextCursor;
    } finally {
      loadingOlder.value = false;
      olderLoad = null;
    }
  })();
  return olderLoad;
}

let tailRefresh: Promise<void> | null = null;

/** Fetches the newest page again and merges it: messages another tab sent, or a stored ending. */
export function refreshTail(): Promise<void> {
  const id = threadId.value;
  if (!id) return Promise.resolve();
  tailRefresh ??= api<Page<Message>>('GET', pagePath(id, null))
    .then((page) => {
      if (threadId.value !== id) return;
      adopt(page.items);
      messages.value = merge(messages.value, page.items);
    })
    .finally(() => {
      tailRefresh = null;
    });
  return tailRefresh;
}

/** Loads older pages until `messageId` is among the messages (a search result's jump). */
export async function revealMessage(messageId: string): Promise<boolean> {
  for (let pages = 0; pages < 100; pages++) {
    if (messages.value.some((message) => message.id === messageId)) return true;
    if (!olderCursor.value) return false;
    await loadOlder();
  }
  return false;
}

const localMessage = (conversationId: string, content: string, clientMessageId: string): Message => ({
  id: `local-${clientMessageId}`,
  conversationId,
  role: 'user',
  content,
  status: 'complete',
  replyTo: null,
  clientMessageId,
  model: null,
  usage: null,
  ttftMs: null,
  latencyMs: null,
  error: null,
  citations: [],
  createdAt: new Date().toISOString(),
});

const placeholderAnswer = (id: string, conversationId: string, replyTo: string): Message => ({
  ...localMessage(conversationId, '', ''),
  id,
  role: 'assistant',
  status: 'pending',
  replyTo,
  clientMessageId: null,
});

/**
 * Sends over the socket (the ack names the new messages). Without a conversation the server
 * starts one; the caller navigates to it.
 */
export async function sendMessage(conversationId: string | null, content: string): Promise<string> {
  const clientMessageId = crypto.randomUUID();
  if (conversationId)
    messages.value = [...messages.value, localMessage(conversationId, content, clientMessageId)];
  try {
    const sent = await request('chat:send', {
      ...(conversationId ? { conversationId } : {}),
      content,
      clientMessageId,
    });
    expectAnswer(sent.assistantMessageId, sent.conversationId);
    if (threadId.value === sent.conversationId) {
      const stored = {
        ...localMessage(sent.conversationId, content, clientMessageId),
        id: sent.userMessageId,
      };
      messages.value = merge(
        messages.value.filter((message) => message.id !== `local-${clientMessageId}`),
        [stored, placeholderAnswer(sent.assistantMessageId, sent.conversationId, sent.userMessageId)],
      );
    }
    touchConversation(sent.conversationId);
    return sent.conversationId;
  } catch (error) {
    messages.value = messages.value.filter((message) => message.id !== `local-${clientMessageId}`);
    throw error;
  }
}

/** A new answer for the same turn (Regenerate, and Retry on a failed answer). */
export async function regenerate(answerId: string) {
  const { assistantMessage } = await api<{ assistantMessage: Message }>(
    'POST',
    `/api/v1/messages/${answerId}/regenerate`,
  );
  expectAnswer(assistantMessage.id, assistantMessage.conversationId);
  answerFromMessage(assistantMessage);
  if (threadId.value === assistantMessage.conversationId)
    messages.value = merge(messages.value, [assistantMessage]);
  touchConversation(assistantMessage.conversationId);
}

/** Answers announced by chat:started that the thread does not list yet. */
const missing = new Set<string>();

async function fetchMissing() {
  // A fetch already under way may have left before the newest send was stored: fetch until
  // every announced answer is listed (a few rounds at most).
  for (let round = 0; round < 5 && missing.size > 0; round++) {
    await refreshTail().catch(() => undefined);
    const listed = new Set(messages.peek().map((message) => message.id));
    for (const id of missing) if (listed.has(id)) missing.delete(id);
  }
  missing.clear();
}

// Another tab started an answer in the conversation on screen: fetch it (and its question).
effect(() => {
  const note = startedElsewhere.value;
  if (!note || note.conversationId !== threadId.peek()) return;
  if (messages.peek().some((message) => message.id === note.messageId)) return;
  const idle = missing.size === 0;
  missing.add(note.messageId);
  if (idle) void fetchMissing();
});

// Nothing left to replay: the stored row is the truth.
effect(() => {
  if (resumeFailed.value) void refreshTail();
});
