/**
 * A failed readiness check's error, as the report shows it: one line, nothing URL-shaped (a
 * connection string may carry credentials), and short enough for a probe's log. Why its own
 * module: the embedder's message names the model, the folder it looked in, the reason and the
 * fix, which is longer than most, and cutting it mid-word left an operator with half a path and
 * no fix; so the cap is generous and a longer message ends at a word, marked with "…".
 */

export const MAX_CHECK_ERROR_CHARS = 1_000;

export function checkError(error: unknown): string {
  const line = String((error as Error)?.message ?? error)
    .split('\n')[0]!
    .replace(/\b[a-z][\w+.-]*:\/\/\S+/gi, '<url>');
  if (line.length <= MAX_CHECK_ERROR_CHARS) return line;
  const cut = line.slice(0, MAX_CHECK_ERROR_CHARS - 1);
  const lastSpace = cut.lastIndexOf(' ');
  return `${(lastSpace > 0 ? cut.slice(0, lastSpace) : cut).trimEnd()}…`;
}
