export interface SseEvent {
  id?: string;
  event: string;
  data: any;
}

/** Reads a Server-Sent-Events response to its end (the server closes after the answer ends). */
export async function readSse(
  url: string,
  token: string,
): Promise<{ status: number; contentType: string | null; events: SseEvent[] }> {
  const response = await fetch(url, {
    headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' },
  });
  const text = await response.text();
  const events = text
    .split('\n\n')
    .filter((block) => block.trim())
    .map((block) => {
      const fields = Object.fromEntries(
        block
          .split('\n')
          .map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 2)]),
      );
      return {
        id: fields.id,
        event: fields.event ?? 'message',
        data: fields.data ? JSON.parse(fields.data) : undefined,
      };
    });
  return { status: response.status, contentType: response.headers.get('content-type'), events };
}
