/**
 * Markdown as readable prose for embedding and search: the words stay, the markup goes. Code inside fences
 * and code spans is kept verbatim; headings, emphasis, links, images, HTML and front matter lose their syntax.
 * Line structure is kept, so blank lines still separate paragraphs for the chunker.
 */
export function markdownToText(markdown: string): string {
  const lines = stripFrontMatter(markdown.replace(/\r\n?/g, '\n')).split('\n');
  const output: string[] = [];
  let fence: string | undefined;
  let inHtmlComment = false;
  for (const line of lines) {
    if (fence !== undefined) {
      if (closesFence(line, fence)) fence = undefined;
      else output.push(line);
      continue;
    }
    const opening = /^ {0,3}(`{3,}|~{3,})/.exec(line)?.[1];
    if (opening) {
      fence = opening;
      output.push('');
      continue;
    }
    if (inHtmlComment || line.includes('<!--')) {
      const { text, open } = stripHtmlComments(line, inHtmlComment);
      inHtmlComment = open;
      output.push(proseLine(text));
      continue;
    }
    output.push(proseLine(line));
  }
  return output.join('\n');
}

/** YAML (---) or TOML (+++) front matter: metadata for site generators, not content. */
function stripFrontMatter(markdown: string): string {
  const match = /^(---|\+\+\+)[ \t]*\n[\s\S]*?\n\1[ \t]*(\n|$)/.exec(markdown);
  return match ? markdown.slice(match[0].length) : markdown;
}

function closesFence(line: string, fence: string): boolean {
  const closing = /^ {0,3}(`{3,}|~{3,})\s*$/.exec(line)?.[1];
  return closing !== undefined && closing[0] === fence[0] && closing.length >= fence.length;
}

function stripHtmlComments(line: string, startsInside: boolean): { text: string; open: boolean } {
  let text = '';
  let rest = line;
  let inside = startsInside;
  while (rest !== '') {
    if (inside) {
      const end = rest.indexOf('-->');
      if (end === -1) return { text, open: true };
      rest = rest.slice(end + 3);
      inside = false;
    } else {
      const start = rest.indexOf('<!--');
      if (start === -1) return { text: text + rest, open: false };
      text += rest.slice(0, start);
      rest = rest.slice(start + 4);
      inside = true;
    }
  }
  return { text, open: inside };
}

/** One line outside code fences. */
function proseLine(line: string): string {
  // Thematic breaks and setext underlines ("***", "---", "===") carry no words.
  if (/^ {0,3}([-*_=])( *\1){2,} *$/.test(line) || /^ {0,3}(=+|-+) *$/.test(line)) return '';
  // Table delimiter rows ("|---|:--:|") likewise.
  if (/^ *\|?( *:?-+:? *\|)+ *(:?-+:? *)?$/.test(line) && line.includes('-')) return '';
  // Reference-style link definitions ("[id]: https://…") are addresses, not prose.
  if (/^ {0,3}\[[^\]]+\]: *\S+/.test(line)) return '';
  let text = line.replace(/^ {0,3}(> ?)+/, ''); // block quotes
  const heading = /^ {0,3}#{1,6}(?: +(.*?))?(?: +#+)? *$/.exec(text);
  if (heading) return inlineText(heading[1] ?? '');
  text = text
    .replace(/^( *)[-*+] +(\[[ xX]\] +)?/, '$1') // bullet and task-list markers; numbers stay, they mean something
    .replace(/^ *\|/, '')
    .replace(/\| *$/, '');
  return inlineText(text);
}

// Code spans and backslash escapes are shielded from the inline rules by swapping them for private-use
// characters, restored at the end: `a_b_c` must keep its underscores and "\*" must stay a literal star.
// (A line that already contains these private-use characters would have them reinterpreted; Markdown prose
// has no business with them.)
const ESCAPE_SHIELD = 0xe000; // + the ASCII code of the escaped character
const CODE_SPAN_OPEN = '\ue100';
const CODE_SPAN_CLOSE = '\ue101';

function inlineText(line: string): string {
  const codeSpans: string[] = [];
  let text = line
    .replace(/(`+)(.+?)\1/g, (_, __, code: string) => {
      codeSpans.push(code.trim());
      return `${CODE_SPAN_OPEN}${codeSpans.length - 1}${CODE_SPAN_CLOSE}`;
    })
    .replace(/\\([!-/:-@[-`{-~])/g, (_, character: string) =>
      String.fromCharCode(ESCAPE_SHIELD + character.charCodeAt(0)),
    );
  text = text
    .replace(/!\[([^\]]*)\]\([^)]*\)/g, '$1') // images → alt text
    .replace(/!?\[([^\]]+)\]\([^)]*\)/g, '$1') // inline links → link text
    .replace(/!?\[([^\]]+)\]\[[^\]]*\]/g, '$1') // reference links → link text
    .replace(/\[\^[^\]]+\]/g, '') // footnote references
    .replace(/<((?:https?|mailto|ftp):[^>\s]+)>/g, '$1') // autolinks → the address itself
    .replace(/<\/?[A-Za-z][A-Za-z0-9-]*(?:\s+[^<>]*)?\/?>/g, '') // HTML tags
    .replace(/(\*\*|__)(?=\S)(.+?)(?<=\S)\1/g, '$2') // strong
    .replace(/(?<![\p{L}\p{N}*])\*(?=\S)(.+?)(?<=\S)\*(?![\p{L}\p{N}*])/gu, '$1') // emphasis with *
    .replace(/(?<![\p{L}\p{N}_])_(?=\S)(.+?)(?<=\S)_(?![\p{L}\p{N}_])/gu, '$1') // emphasis with _
    .replace(/~~(?=\S)(.+?)(?<=\S)~~/g, '$1') // strikethrough
    .replace(/ +\| +/g, ' | ');
  return decodeEntities(text)
    .replace(/[\ue000-\ue07f]/g, (shielded) => String.fromCharCode(shielded.charCodeAt(0) - ESCAPE_SHIELD))
    .replace(/\ue100(\d+)\ue101/g, (_, index: string) => codeSpans[Number(index)] ?? '');
}

const NAMED_ENTITIES: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: '\u00a0',
  copy: '©',
  reg: '®',
  trade: '™',
  hellip: '…',
  mdash: '—',
  ndash: '–',
  laquo: '«',
  raquo: '»',
};

/** The entities people actually write in Markdown; unknown ones are left as typed. */
function decodeEntities(text: string): string {
  return text.replace(/&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z]+);/g, (entity, body: string) => {
    if (body.startsWith('#')) {
      const code =
        body[1] === 'x' || body[1] === 'X' ? Number.parseInt(body.slice(2), 16) : Number(body.slice(1));
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : entity;
    }
    return NAMED_ENTITIES[body] ?? entity;
  });
}
