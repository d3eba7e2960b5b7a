import { activeAnswers, stopAnswer } from '../state/answers.ts';
import { Composer } from './Composer.tsx';

/**
 * "Writing…", Stop and the composer. It reads the answers being written itself, so an answer
 * starting or ending re-renders this strip only, never the conversation's message list.
 */
export function ComposerArea({
  conversationId,
  onSend,
  onError,
}: {
  conversationId: string | null;
  onSend: (content: string) => Promise<boolean>;
  onError: (error: unknown) => void;
}) {
  const writing = activeAnswers.value.filter((answer) => answer.conversationId === conversationId);

  function stop() {
    for (const answer of writing) void stopAnswer(answer).catch(onError);
  }

  return (
    <>
      <div class="writing-line">
        <p role="status" class="writing">
          {writing.length > 0 ? 'Writing…' : ''}
        </p>
        {writing.length > 0 && (
          <button type="button" class="secondary stop" onClick={stop}>
            Stop
          </button>
        )}
      </div>
      <Composer onSend={onSend} onStop={stop} busy={writing.length > 0} />
    </>
  );
}
