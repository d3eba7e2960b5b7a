import { effect } from '@preact/signals';
import { useEffect, useRef } from 'preact/hooks';
import { copyText } from '../clipboard.ts';
import { renderMarkdown, StreamingMarkdown } from '../markdown/render.ts';
import { renderSoon } from '../markdown/renderQueue.ts';
import { type Answer, isTerminal } from '../state/answers.ts';

/**
 * An answer's text as Markdown. It writes the DOM itself, outside Preact's diff: while streaming,
 * once per animation frame (when `answer.text` changes) and only the last block; when the answer
 * ends, once in full with highlighting and citation links.
 */
export function AnswerBody({
  answer,
  eager,
  onCitation,
}: {
  answer: Answer;
  /** Render an ended answer at once (the newest messages); older ones are rendered soon after. */
  eager: boolean;
  onCitation: (n: number) => void;
}) {
  const ref = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const element = ref.current!;
    let streaming: StreamingMarkdown | null = null;
    let cancelQueued: (() => void) | null = null;
    // One listener for the buttons and links inside the rendered HTML (keyboard activation of a
    // button or link is a click too).
    element.addEventListener('click', onClick);
    const dispose = effect(() => {
      const text = answer.text.value;
      const status = answer.status.value;
      const citations = answer.citations.value;
      cancelQueued?.();
      cancelQueued = null;
      if (isTerminal(status)) {
        // Seen streaming and nothing to link: finish the streamed blocks. Otherwise (citations,
        // or an answer loaded already ended) one full render, soon unless it is one of the newest.
        const render = () => element.replaceChildren(renderMarkdown(text, { citations, highlight: true }));
        if (streaming && citations.length === 0) streaming.finish(text);
        else if (eager || streaming) render();
        else cancelQueued = renderSoon(render);
        streaming = null;
      } else {
        streaming ??= new StreamingMarkdown(element);
        streaming.update(text);
      }
    });
    return () => {
      cancelQueued?.();
      dispose();
      element.removeEventListener('click', onClick);
    };
  }, [answer]);

  function onClick(event: MouseEvent) {
    const target = event.target as Element;
    const copyButton = target.closest('button.copy-code');
    if (copyButton) {
      const code = copyButton.closest('.code-block')?.querySelector('code')?.textContent ?? '';
      void copyText(code).then((copied) => {
        if (!copied) return;
        copyButton.classList.add('copied');
        setTimeout(() => copyButton.classList.remove('copied'), 1_500);
      });
      return;
    }
    const citation = target.closest<HTMLElement>('a.citation');
    if (citation) {
      event.preventDefault();
      onCitation(Number(citation.dataset.citation));
    }
  }

  return <div class="message-body" ref={ref} />;
}
