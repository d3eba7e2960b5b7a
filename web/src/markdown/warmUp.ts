import { grammarWarmUps } from './highlight.ts';
import { renderMarkdown } from './render.ts';

/**
 * Markdown with the blocks and inline forms answers use, so rendering it runs the expressions
 * marked and DOMPurify match answers with.
 */
const SAMPLE = [
  '## Heading',
  'A paragraph with **bold**, *emphasis*, `code`, a [link](https://example.com) and ~~strike~~.',
  '- first point\n- second point\n\n1. one\n2. two',
  '> a quote',
  '```ts\nconst value = 1;\n```',
  '| a | b |\n| - | - |\n| 1 | 2 |',
  '---',
  'Closing paragraph',
].join('\n\n');

/**
 * V8 compiles a regular expression separately for strings of one-byte (Latin-1) and two-byte
 * characters, and first runs it in its interpreter, compiling native code on a later run. So the
 * first answer of each kind a page renders pays for compiling marked's and DOMPurify's
 * expressions: 50–60 ms on a busy 2-core machine, in the middle of a streaming answer when the
 * page so far showed only text beyond Latin-1 (or none). Each sample runs twice, in both kinds.
 */
const markdownWarmUps = () =>
  [SAMPLE, `${SAMPLE} — 漢字`].flatMap((sample) => {
    const render = () => void renderMarkdown(sample, { highlight: false });
    return [render, render];
  });

let warming = false;

/**
 * After sign-in, idle moments do the rendering path's one-time work, small steps while an idle
 * period lasts: Markdown first (every answer needs it), then the highlight.js grammars. Done early
 * it is done before the first answer streams; the timeout keeps a busy page from putting it off.
 */
export function warmUpRendering() {
  if (warming) return;
  warming = true;
  const pending = [...markdownWarmUps(), ...grammarWarmUps()];
  const next = (deadline?: IdleDeadline) => {
    while (pending.length > 0 && (!deadline || deadline.timeRemaining() > 0)) {
      pending.shift()!();
      if (!deadline) break;
    }
    if (pending.length > 0) schedule(next);
  };
  schedule(next);
}

const schedule = (run: (deadline?: IdleDeadline) => void) =>
  'requestIdleCallback' in window ? requestIdleCallback(run, { timeout: 5_000 }) : setTimeout(run, 200);
