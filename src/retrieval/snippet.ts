const SNIPPET_CHARS = 280;

/**
 * A short excerpt for citations and search results: the window around the first query word
 * found in the text (else its beginning), cut at word boundaries.
 */
export function snippetOf(text: string, query: string, length = SNIPPET_CHARS): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  if (flat.length <= length) return flat;
  const lower = flat.toLowerCase();
  const words = query
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((word) => word.length > 3);
  const hit = words.map((word) => lower.indexOf(word)).find((index) => index >= 0) ?? 0;
  let start = Math.max(0, hit - Math.floor(length / 3));
  if (start > 0) {
    const space = flat.indexOf(' ', start);
    start = space >= 0 && space < hit ? space + 1 : start;
  }
  let end = Math.min(flat.length, start + length);
  if (end < flat.length) {
    const space = flat.lastIndexOf(' ', end);
    end = space > start ? space : end;
  }
  return `${start > 0 ? '…' : ''}${flat.slice(start, end)}${end < flat.length ? '…' : ''}`;
}
