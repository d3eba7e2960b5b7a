import { useEffect, useLayoutEffect, useRef } from 'preact/hooks';
import { answerFromMessage, findAnswer } from '../state/answers.ts';
import {
  loadingOlder,
  loadOlder,
  messages,
  olderCursor,
  revealMessage,
  threadLoaded,
} from '../state/thread.ts';
import { AssistantMessage } from './AssistantMessage.tsx';
import { UserMessage } from './UserMessage.tsx';

/** Within this many pixels of the bottom the view follows new text; further up it stays put. */
const FOLLOW_SLACK_PX = 48;
/** The newest messages render their Markdown at once; older ones in short tasks just after. */
const EAGER_MESSAGES = 6;
/** Closer than this to the top, the next older page is fetched. */
const LOAD_OLDER_PX = 300;

/**
 * The conversation's messages. Follows the streaming answer while the reader is at the bottom,
 * stops following when they scroll up, and fetches older pages near the top while keeping what
 * the reader looks at in place.
 */
export function MessageList({ jumpTo }: { jumpTo: string | null }) {
  const log = useRef<HTMLDivElement>(null);
  const content = useRef<HTMLDivElement>(null);
  const follow = useRef(true);
  const anchor = useRef<{ height: number; top: number } | null>(null);
  const items = messages.value;
  const lastAnswerId = items.findLast((message) => message.role === 'assistant')?.id;
  // Only the page that opens the conversation defers its older answers: later pages go in above
  // the reader and must have their final height at once (scroll anchoring, a jump's target).
  const opened = useRef(false);
  const deferOlder = !opened.current && !jumpTo;

  function olderIfNearTop() {
    const element = log.current;
    if (!element || !olderCursor.peek() || loadingOlder.peek() || !threadLoaded.peek()) return;
    if (element.scrollTop > LOAD_OLDER_PX && element.scrollHeight > element.clientHeight) return;
    anchor.current = { height: element.scrollHeight, top: element.scrollTop };
    void loadOlder();
  }

  function onScroll() {
    const element = log.current!;
    follow.current = element.scrollHeight - element.scrollTop - element.clientHeight < FOLLOW_SLACK_PX;
    olderIfNearTop();
  }

  // Growing content (a streaming frame, a new message) scrolls to the end while following.
  useEffect(() => {
    const observer = new ResizeObserver(() => {
      const element = log.current;
      if (element && follow.current && !anchor.current) element.scrollTop = element.scrollHeight;
    });
    observer.observe(content.current!);
    return () => observer.disconnect();
  }, []);

  useLayoutEffect(() => {
    if (items.length > 0) opened.current = true;
    const element = log.current!;
    if (anchor.current) {
      // Older messages went in above: keep the same message under the reader's eyes.
      element.scrollTop = anchor.current.top + (element.scrollHeight - anchor.current.height);
      anchor.current = null;
    } else if (follow.current) {
      element.scrollTop = element.scrollHeight;
    }
    // A short page leaves nothing to scroll: fill the view with older messages.
    if (element.scrollHeight <= element.clientHeight) olderIfNearTop();
  }, [items]);

  useEffect(() => {
    if (!jumpTo || !threadLoaded.value) return;
    let cancelled = false;
    void revealMessage(jumpTo)
      .catch(() => false)
      .then((found) => {
        if (cancelled || !found) return;
        requestAnimationFrame(() => {
          const target = log.current?.querySelector<HTMLElement>(`[data-message-id="${jumpTo}"]`);
          if (!target) return;
          follow.current = false;
          target.scrollIntoView({ block: 'center' });
          target.classList.add('highlight');
          target.focus({ preventScroll: true });
        });
      });
    return () => {
      cancelled = true;
    };
  }, [jumpTo, threadLoaded.value]);

  return (
    <div class="log" role="log" aria-label="Messages" aria-live="polite" ref={log} onScroll={onScroll}>
      <div ref={content} class="log-content">
        {olderCursor.value && (
          <p class="muted older-note">
            {loadingOlder.value ? 'Loading older messages…' : 'Scroll up for older messages'}
          </p>
        )}
        {items.map((message, index) =>
          message.role === 'assistant' ? (
            <AssistantMessage
              key={message.id}
              answer={findAnswer(message.id) ?? answerFromMessage(message)}
              isLast={message.id === lastAnswerId}
              eager={!deferOlder || index >= items.length - EAGER_MESSAGES}
            />
          ) : (
            <UserMessage key={message.id} message={message} />
          ),
        )}
      </div>
    </div>
  );
}
