import DOMPurify from 'dompurify';
import { Marked, type Token, type Tokens } from 'marked';
import type { Citation } from '../api/types.ts';
import { highlightCode } from './highlight.ts';

/**
 * Markdown → sanitised DOM. Raw HTML the model writes is shown as text, never parsed: even a
 * parse in DOMPurify's inert document makes Chromium report the page's CSP for inline handlers.
 * Every piece of HTML marked makes still passes DOMPurify. Code blocks get a "Copy code" button (handled by
 * delegation in the message view) and highlighting; `[n]` in a grounded answer becomes a link to
 * the cited passage.
 */

interface RenderContext {
  citations: Map<number, Citation>;
  highlight: boolean;
}

// marked renders synchronously; the context of the render under way is read by the extensions.
let context: RenderContext = { citations: new Map(), highlight: false };

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);

export const citationLabel = (citation: Citation) =>
  `Source ${citation.n}: ${citation.filename}${citation.page != null ? `, page ${citation.page}` : ''}`;

const markdown = new Marked({
  gfm: true,
  breaks: false,
  renderer: {
    html({ text }: Tokens.HTML | Tokens.Tag) {
      return escapeHtml(text);
    },
    code({ text, lang }: Tokens.Code) {
      const language = (lang ?? '').trim().split(/\s+/)[0]!.toLowerCase();
      const highlighted = context.highlight ? highlightCode(text, language) : null;
      const label = language ? `<span class="code-lang">${escapeHtml(language)}</span>` : '<span></span>';
      return (
        `<div class="code-block"><div class="code-toolbar">${label}` +
        '<button type="button" class="copy-code">Copy code</button></div>' +
        `<pre><code class="hljs${language ? ` language-${escapeHtml(language)}` : ''}">` +
        `${highlighted ?? escapeHtml(text)}</code></pre></div>`
      );
    },
  },
  extensions: [
    {
      name: 'citation',
      level: 'inline',
      start: (source: string) => source.indexOf('['),
      tokenizer(source: string) {
        const match = /^\[(\d{1,3})\]/.exec(source);
        if (!match) return undefined;
        return { type: 'citation', raw: match[0], n: Number(match[1]) };
      },
      renderer(token) {
        const citation = context.citations.get((token as unknown as { n: number }).n);
        if (!citation) return escapeHtml(token.raw);
        return `<a class="citation" href="#" data-citation="${citation.n}" aria-label="${escapeHtml(citationLabel(citation))}">[${citation.n}]</a>`;
      },
    },
  ],
});

DOMPurify.addHook('afterSanitizeAttributes', (node) => {
  // Links the model wrote open in a new tab and never hand this page to the target.
  if (node.tagName === 'A' && !node.classList.contains('citation')) {
    node.setAttribute('target', '_blank');
    node.setAttribute('rel', 'noopener noreferrer');
  }
});

// Set once: a config passed per call is parsed again on every call (measurable per frame).
// A fragment, not a string: the sanitised nodes go into the page as they are, without the
// browser parsing the same HTML a second time.
DOMPurify.setConfig({ ADD_ATTR: ['target'], RETURN_DOM_FRAGMENT: true });
const sanitize = (html: string): DocumentFragment => DOMPurify.sanitize(html) as unknown as DocumentFragment;

export interface RenderOptions {
  citations?: Citation[];
  highlight?: boolean;
}

function withContext<T>(options: RenderOptions, run: () => T): T {
  context = {
    citations: new Map((options.citations ?? []).map((citation) => [citation.n, citation])),
    highlight: options.highlight ?? true,
  };
  try {
    return run();
  } finally {
    context = { citations: new Map(), highlight: false };
  }
}

/** A whole message, sanitised. */
export const renderMarkdown = (text: string, options: RenderOptions = {}): DocumentFragment =>
  withContext(options, () => sanitize(markdown.parse(text, { async: false })));

/**
 * Renders a growing text into `container` without re-parsing what is finished: every top-level
 * block followed by another block is complete and is rendered once (highlighted) and kept; only
 * the last block is parsed again on each update. Cost per update stays flat as the answer grows.
 */
export class StreamingMarkdown {
  private readonly container: HTMLElement;
  private readonly tail: HTMLElement;
  private committed = 0;

  constructor(container: HTMLElement) {
    this.container = container;
    this.container.replaceChildren();
    this.tail = document.createElement('div');
    this.tail.className = 'md-tail';
    this.container.append(this.tail);
  }

  update(text: string) {
    if (text.length < this.committed) this.reset();
    const rest = text.slice(this.committed);
    const tokens = markdown.lexer(rest);
    let last = tokens.length - 1;
    while (last > 0 && tokens[last]!.type === 'space') last--;
    const finished = tokens.slice(0, Math.max(last, 0));
    const finishedRaw = finished.map((token) => token.raw).join('');
    // Only when the tokens spell the text exactly (no link definitions or normalisation) is the
    // prefix safe to freeze; otherwise the whole rest is the tail.
    if (finished.length > 0 && rest.startsWith(finishedRaw)) {
      this.tail.before(renderTokens(finished, true));
      this.committed += finishedRaw.length;
      this.tail.replaceChildren(renderTokens(tokens.slice(finished.length), false));
    } else {
      this.tail.replaceChildren(renderTokens(tokens, false));
    }
  }

  /**
   * The answer ended with `text`: the last block is rendered like the others (highlighted) and
   * the DOM is left as a whole render would make it, without parsing the finished blocks again.
   */
  finish(text: string) {
    if (text.length < this.committed) this.reset();
    this.tail.replaceWith(renderTokens(markdown.lexer(text.slice(this.committed)), true));
  }

  private reset() {
    this.committed = 0;
    while (this.container.firstChild !== this.tail) this.container.firstChild?.remove();
  }
}

function renderTokens(tokens: Token[], highlight: boolean): DocumentFragment {
  return withContext({ highlight }, () => sanitize(markdown.parser(tokens)));
}
