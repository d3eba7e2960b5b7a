/**
 * Server-sent events read straight from a response body: one `await` per network read, each
 * complete event handed to `onEvent` synchronously. groq-sdk's own stream goes through four async
 * generators and copies its byte buffer on every read; relaying a token cost ~30 µs of worker CPU
 * there (docs/benchmarks.md, relay). Lines end in `\n` or `\r\n`; an event ends at a blank line;
 * `data:` lines of one event are joined with `\n`; comments and other fields are skipped.
 * Resolves when the body ends; `onEvent` returning `false` stops reading (the body is cancelled).
 */
export async function readSseEvents(
  body: ReadableStream<Uint8Array>,
  onEvent: (event: string | null, data: string) => boolean | undefined,
): Promise<void> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let pending = '';
  let event: string | null = null;
  let data: string | null = null;
  const line = (text: string): boolean => {
    if (text === '') {
      if (data === null) return true;
      const more = onEvent(event, data) !== false;
      event = null;
      data = null;
      return more;
    }
    const colon = text.indexOf(':');
    const field = colon === -1 ? text : text.slice(0, colon);
    let value = colon === -1 ? '' : text.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') data = data === null ? value : `${data}\n${value}`;
    else if (field === 'event') event = value;
    return true;
  };
  try {
    for (;;) {
      const { done, value } = await reader.read();
      pending += done ? decoder.decode() : decoder.decode(value, { stream: true });
      let start = 0;
      let end = pending.indexOf('\n', start);
      while (end !== -1) {
        const stop = end > start && pending.charCodeAt(end - 1) === 13 ? end - 1 : end;
        if (!line(pending.slice(start, stop))) return;
        start = end + 1;
        end = pending.indexOf('\n', start);
      }
      pending = start === 0 ? pending : pending.slice(start);
      if (done) {
        if (pending) line(pending);
        line('');
        return;
      }
    }
  } finally {
    reader.cancel().catch(() => undefined);
  }
}
