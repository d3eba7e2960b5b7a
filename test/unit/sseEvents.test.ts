import { expect } from 'chai';
import { readSseEvents } from '../../src/llm/sseEvents.ts';

/** A body that delivers exactly these byte chunks, one read each. */
function body(chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  let index = 0;
  return new ReadableStream({
    pull(controller) {
      const chunk = chunks[index++];
      if (chunk) controller.enqueue(chunk);
      else controller.close();
    },
  });
}

const read = async (chunks: Uint8Array[], stopAt?: string) => {
  const events: Array<[string | null, string]> = [];
  await readSseEvents(body(chunks), (event, data) => {
    events.push([event, data]);
    return data !== stopAt;
  });
  return events;
};

describe('readSseEvents', () => {
  it('splits events at blank lines, whatever the read boundaries, multi-byte characters included', async () => {
    const bytes = new TextEncoder().encode(
      'data: {"a":"é€"}\n\n: comment\ndata: two\r\n\r\ndata: [DONE]\n\n',
    );
    const whole = await read([bytes]);
    expect(whole).to.deep.equal([
      [null, '{"a":"é€"}'],
      [null, 'two'],
      [null, '[DONE]'],
    ]);
    // One byte per read: characters and line ends split across reads.
    expect(await read(Array.from(bytes, (byte) => Uint8Array.of(byte)))).to.deep.equal(whole);
  });

  it('joins the data lines of one event, keeps its event name, and ends an unterminated last event', async () => {
    const bytes = new TextEncoder().encode('event: error\ndata: one\ndata:two\n\ndata: last');
    expect(await read([bytes])).to.deep.equal([
      ['error', 'one\ntwo'],
      [null, 'last'],
    ]);
  });

  it('stops reading when the handler returns false', async () => {
    const bytes = new TextEncoder().encode('data: 1\n\ndata: [DONE]\n\ndata: after\n\n');
    expect(await read([bytes], '[DONE]')).to.deep.equal([
      [null, '1'],
      [null, '[DONE]'],
    ]);
  });
});
