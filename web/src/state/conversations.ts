import { signal } from '@preact/signals';
import { api } from '../api/http.ts';
import type { Conversation, ConversationMode, Page } from '../api/types.ts';
import { onServerEvent } from '../realtime/socket.ts';

/** The sidebar's conversations (cursor-paged, newest activity first, optionally filtered by title). */

export const conversations = signal<Conversation[]>([]);
export const conversationsCursor = signal<string | null>(null);
export const conversationsLoaded = signal(false);
export const conversationQuery = signal('');
/** The conversation on screen, with its attached documents. */
export const currentConversation = signal<Conversation | null>(null);

const PAGE = 30;
let listGeneration = 0;

const listPath = (cursor: string | null) => {
  const params = new URLSearchParams({ limit: String(PAGE) });
  if (conversationQuery.value.trim()) params.set('q', conversationQuery.value.trim());
  if (cursor) params.set('cursor', cursor);
  return `/api/v1/conversations?${params}`;
};

export async function loadConversations() {
  // A newer search supersedes a slower older one.
  const generation = ++listGeneration;
  const page = await api<Page<Conversation>>('GET', listPath(null));
  if (generation !== listGeneration) return;
  conversations.value = page.items;
  conversationsCursor.value = page.nextCursor;
  conversationsLoaded.value = true;
}

export async function loadMoreConversations() {
  const generation = listGeneration;
  const page = await api<Page<Conversation>>('GET', listPath(conversationsCursor.value));
  if (generation !== listGeneration) return;
  const known = new Set(conversations.value.map((conversation) => conversation.id));
  conversations.value = [...conversations.value, ...page.items.filter((item) => !known.has(item.id))];
  conversationsCursor.value = page.nextCursor;
}

export function searchConversations(query: string) {
  conversationQuery.value = query;
  return loadConversations();
}

/** Puts a conversation first in the list (it just had activity), or updates it in place. */
export function upsertConversation(conversation: Conversation, moveToTop: boolean) {
  const others = conversations.value.filter((item) => item.id !== conversation.id);
  const index = conversations.value.findIndex((item) => item.id === conversation.id);
  if (moveToTop || index < 0) conversations.value = [conversation, ...others];
  else
    conversations.value = conversations.value.map((item) =>
      item.id === conversation.id ? conversation : item,
    );
  if (currentConversation.value?.id === conversation.id)
    currentConversation.value = { ...currentConversation.value, ...conversation };
}

export async function createConversation(): Promise<Conversation> {
  const conversation = await api<Conversation>('POST', '/api/v1/conversations', { body: {} });
  upsertConversation(conversation, true);
  return conversation;
}

export async function openConversation(id: string): Promise<Conversation> {
  const conversation = await api<Conversation>('GET', `/api/v1/conversations/${id}`);
  currentConversation.value = conversation;
  return conversation;
}

export async function updateConversation(
  id: string,
  patch: { title?: string | null; mode?: ConversationMode; documentIds?: string[] },
) {
  const conversation = await api<Conversation>('PATCH', `/api/v1/conversations/${id}`, { body: patch });
  upsertConversation(conversation, false);
  if (currentConversation.value?.id === id) currentConversation.value = conversation;
  return conversation;
}

export async function deleteConversation(id: string) {
  await api('DELETE', `/api/v1/conversations/${id}`);
  conversations.value = conversations.value.filter((item) => item.id !== id);
  if (currentConversation.value?.id === id) currentConversation.value = null;
}

/** A conversation's activity time moved (a message was sent): it goes first. */
export function touchConversation(id: string) {
  const found = conversations.value.find((item) => item.id === id);
  if (found) upsertConversation({ ...found, lastMessageAt: new Date().toISOString() }, true);
  else void loadConversations();
}

onServerEvent('conversation:updated', ({ conversationId, title }) => {
  if (conversations.value.some((item) => item.id === conversationId))
    conversations.value = conversations.value.map((item) =>
      item.id === conversationId ? { ...item, title } : item,
    );
  if (currentConversation.value?.id === conversationId)
    currentConversation.value = { ...currentConversation.value, title };
});

export const displayTitle = (conversation: Pick<Conversation, 'title'> | null) =>
  conversation?.title?.trim() || 'New chat';
