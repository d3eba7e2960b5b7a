import { useSignal } from '@preact/signals';
import { ApiError } from '../api/http.ts';
import { copyText } from '../clipboard.ts';
import { citationLabel } from '../markdown/render.ts';
import { type Answer, isTerminal } from '../state/answers.ts';
import { regenerate } from '../state/thread.ts';
import { AnswerBody } from './AnswerBody.tsx';

/**
 * The fixed answers a grounded conversation gives when its documents hold nothing relevant
 * (src/chat/groundedPrompt.ts); recognised by their opening words.
 */
const NOT_IN_DOCUMENTS = [
  "I couldn't find anything about this in your documents",
  'There are no processed documents to answer from yet',
];

export function AssistantMessage({
  answer,
  isLast,
  eager,
}: {
  answer: Answer;
  isLast: boolean;
  eager: boolean;
}) {
  const source = useSignal<number | null>(null);
  const showDetails = useSignal(false);
  const actionError = useSignal<string | null>(null);
  const status = answer.status.value;
  const ended = isTerminal(status);
  const failure = answer.failure.value;
  const details = answer.details.value;
  // peek: this component re-renders on status changes, not on every streamed frame.
  const notInDocuments =
    ended &&
    answer.citations.value.length === 0 &&
    NOT_IN_DOCUMENTS.some((start) => answer.text.peek().startsWith(start));
  const cited =
    source.value == null ? null : answer.citations.value.find((citation) => citation.n === source.value);

  async function again() {
    actionError.value = null;
    try {
      await regenerate(answer.id);
    } catch (error) {
      actionError.value =
        error instanceof ApiError ? error.describe() : 'The answer could not be started again.';
    }
  }

  return (
    <article
      class={`message assistant status-${status}`}
      aria-label="Assistant"
      data-message-id={answer.id}
      data-status={status}
      data-grounding={notInDocuments ? 'none' : undefined}
      // Screen readers announce the answer once it is written, not every streamed fragment.
      aria-busy={!ended}
      tabIndex={-1}
    >
      <AnswerBody
        answer={answer}
        eager={eager}
        onCitation={(n) => {
          source.value = source.value === n ? null : n;
        }}
      />
      {status === 'pending' && !failure && <p class="muted pending-note">Waiting for the model…</p>}
      {notInDocuments && <p class="note">Not found in your documents</p>}
      {status === 'cancelled' && <p class="note">Stopped</p>}
      {status === 'failed' && (
        <div role="alert" class="failure">
          <span>{failure?.message ?? 'The answer could not be completed.'}</span>
          {(failure?.retryable ?? true) && (
            <button type="button" class="secondary" onClick={again}>
              Retry
            </button>
          )}
        </div>
      )}
      {cited && (
        <section class="source" aria-label={`Source ${cited.n}`}>
          <p class="source-title">{citationLabel(cited)}</p>
          <blockquote>{cited.snippet}</blockquote>
          <button type="button" class="link-button" onClick={() => (source.value = null)}>
            Close source
          </button>
        </section>
      )}
      {ended && (
        <div class="toolbar">
          <button type="button" class="ghost" onClick={() => void copyText(answer.text.peek())}>
            Copy
          </button>
          {isLast && (
            <button type="button" class="ghost" onClick={again}>
              Regenerate
            </button>
          )}
          <button
            type="button"
            class="ghost"
            aria-expanded={showDetails.value}
            onClick={() => (showDetails.value = !showDetails.value)}
          >
            Details
          </button>
        </div>
      )}
      {actionError.value && (
        <p role="alert" class="error">
          {actionError.value}
        </p>
      )}
      {ended && showDetails.value && (
        <dl class="details">
          <dt>Model</dt>
          <dd>{details?.model ?? '—'}</dd>
          <dt>Time to first token</dt>
          <dd>{details?.ttftMs != null ? `${details.ttftMs} ms` : '—'}</dd>
          <dt>Tokens</dt>
          <dd>
            {details?.usage
              ? `${details.usage.promptTokens} prompt · ${details.usage.completionTokens} completion`
              : '—'}
          </dd>
          <dt>Total time</dt>
          <dd>{details?.latencyMs != null ? `${(details.latencyMs / 1000).toFixed(1)} s` : '—'}</dd>
        </dl>
      )}
    </article>
  );
}
