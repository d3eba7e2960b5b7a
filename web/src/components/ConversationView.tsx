import { useSignal } from '@preact/signals';
import { useEffect } from 'preact/hooks';
import { ApiError } from '../api/http.ts';
import type { ConversationMode } from '../api/types.ts';
import { SocketError } from '../realtime/socket.ts';
import { navigate } from '../router.ts';
import {
  currentConversation,
  deleteConversation,
  displayTitle,
  openConversation,
  updateConversation,
} from '../state/conversations.ts';
import {
  closeThread,
  messages,
  openThread,
  sendMessage,
  threadError,
  threadLoaded,
} from '../state/thread.ts';
import { AttachDialog } from './AttachDialog.tsx';
import { ComposerArea } from './ComposerArea.tsx';
import { ConfirmDialog } from './ConfirmDialog.tsx';
import { MessageList } from './MessageList.tsx';
import { Suggestions } from './Suggestions.tsx';

/** One conversation (or, with `id` null, a new one that starts with the first message). */
export function ConversationView({ id, jumpTo }: { id: string | null; jumpTo: string | null }) {
  const renaming = useSignal(false);
  const titleDraft = useSignal('');
  const confirmingDelete = useSignal(false);
  const attaching = useSignal(false);
  const error = useSignal<string | null>(null);
  const missing = useSignal(false);

  useEffect(() => {
    if (!id) {
      closeThread();
      currentConversation.value = null;
      return;
    }
    void openThread(id);
    openConversation(id).catch((caught: unknown) => {
      if (caught instanceof ApiError && caught.status === 404) missing.value = true;
    });
  }, [id]);

  const conversation = id && currentConversation.value?.id === id ? currentConversation.value : null;
  const empty = threadLoaded.value && messages.value.length === 0;

  async function send(content: string): Promise<boolean> {
    error.value = null;
    try {
      const conversationId = await sendMessage(id, content);
      if (!id) navigate(`/c/${conversationId}`);
      return true;
    } catch (caught) {
      error.value = describe(caught);
      return false;
    }
  }

  async function act(run: () => Promise<unknown>) {
    error.value = null;
    try {
      await run();
    } catch (caught) {
      error.value = describe(caught);
    }
  }

  if (missing.value) {
    return (
      <main class="page">
        <h1>Conversation not found</h1>
        <p>
          It may have been deleted. <a href="/">Back to your conversations</a>
        </p>
      </main>
    );
  }

  return (
    <main class="conversation">
      <header class="conversation-header">
        {renaming.value && conversation ? (
          <form
            class="rename"
            onSubmit={(event) => {
              event.preventDefault();
              void act(async () => {
                await updateConversation(conversation.id, { title: titleDraft.value.trim() || null });
                renaming.value = false;
              });
            }}
          >
            <label class="visually-hidden" for="conversation-title">
              Conversation title
            </label>
            <input
              id="conversation-title"
              value={titleDraft.value}
              maxLength={200}
              onInput={(event) => {
                titleDraft.value = event.currentTarget.value;
              }}
              onKeyDown={(event) => {
                if (event.key === 'Escape') renaming.value = false;
              }}
            />
            <button type="submit" class="primary">
              Save
            </button>
            <button type="button" class="secondary" onClick={() => (renaming.value = false)}>
              Cancel
            </button>
          </form>
        ) : (
          <h1>{id ? displayTitle(conversation) : 'New chat'}</h1>
        )}
        {conversation && (
          <div class="conversation-actions">
            {!renaming.value && (
              <button
                type="button"
                class="ghost"
                onClick={() => {
                  titleDraft.value = conversation.title ?? '';
                  renaming.value = true;
                }}
              >
                Rename conversation
              </button>
            )}
            <button type="button" class="ghost" onClick={() => (confirmingDelete.value = true)}>
              Delete conversation
            </button>
            <label class="mode">
              Mode
              <select
                value={conversation.mode}
                onChange={(event) =>
                  void act(() =>
                    updateConversation(conversation.id, {
                      mode: event.currentTarget.value as ConversationMode,
                    }),
                  )
                }
              >
                <option value="chat">Chat</option>
                <option value="grounded">Grounded</option>
              </select>
            </label>
            <button type="button" class="ghost" onClick={() => (attaching.value = true)}>
              Attach documents
            </button>
            {conversation.documents && conversation.documents.length > 0 && (
              <span class="muted attached">
                {conversation.documents.length}{' '}
                {conversation.documents.length === 1 ? 'document' : 'documents'} attached
              </span>
            )}
          </div>
        )}
      </header>

      {id ? <MessageList jumpTo={jumpTo} /> : <div class="log placeholder" />}
      {threadError.value && (
        <p role="alert" class="error">
          {threadError.value}
        </p>
      )}
      {(empty || !id) && (
        <div class="empty">
          <p class="muted">Ask anything, or start from a suggestion:</p>
          <Suggestions onPick={(text) => void send(text)} />
        </div>
      )}

      <div class="composer-area">
        {error.value && (
          <p role="alert" class="error">
            {error.value}
          </p>
        )}
        <ComposerArea
          conversationId={id}
          onSend={send}
          onError={(caught) => {
            error.value = describe(caught);
          }}
        />
      </div>

      {confirmingDelete.value && conversation && (
        <ConfirmDialog
          title="Delete this conversation?"
          onCancel={() => {
            confirmingDelete.value = false;
          }}
          onConfirm={() => {
            confirmingDelete.value = false;
            void act(async () => {
              await deleteConversation(conversation.id);
              navigate('/', { replace: true });
            });
          }}
        >
          <p>“{displayTitle(conversation)}” and all its messages will be removed.</p>
        </ConfirmDialog>
      )}
      {attaching.value && conversation && (
        <AttachDialog
          attached={(conversation.documents ?? []).map((document) => document.id)}
          onCancel={() => (attaching.value = false)}
          onDone={(documentIds) => {
            // Closed at once (focus returns to the page); a failed save shows as an alert.
            attaching.value = false;
            void act(() => updateConversation(conversation.id, { documentIds }));
          }}
        />
      )}
    </main>
  );
}

function describe(error: unknown): string {
  if (error instanceof ApiError) return error.describe();
  if (error instanceof SocketError) {
    if (error.code === 'rate_limited')
      return `Too many messages; try again in ${error.retryAfterSeconds ?? 'a few'} s.`;
    return error.message;
  }
  return 'Something went wrong. Try again.';
}
