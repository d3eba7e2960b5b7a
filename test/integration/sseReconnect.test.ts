import { expect } from 'chai';
import { EventSource } from 'eventsource';
import { ApiClient, type Session } from '../support/ApiClient.ts';
import { type ChatStack, startChatStack } from '../support/chatStack.ts';
import { TcpProxy } from '../support/TcpProxy.ts';

interface Received {
  event: string;
  id: string;
  data: any;
}

/**
 * A standard SSE client reconnects by itself with Last-Event-ID; the stream must continue from
 * there, not replay the answer from the start.
 */
describe('SSE stream resumes from Last-Event-ID', function () {
  this.timeout(60_000);
  let stack: ChatStack;
  let api: ApiClient;
  let session: Session;
  let proxy: TcpProxy;

  before(async () => {
    stack = await startChatStack(
      'sse-reconnect',
      // Long and slow enough that the cut lands mid-answer and the answer goes on meanwhile.
      { ttftMs: 5, tokensPerSecond: 40, answerTokens: 120 },
      { RATE_LIMIT_MESSAGES: '10000/1m', STREAM_FLUSH_CHARS: '8' },
    );
    api = new ApiClient(stack.edge.url);
    session = await api.signup('sse');
    proxy = await TcpProxy.start('127.0.0.1', Number(new URL(stack.edge.url).port));
  });
  after(async () => {
    await proxy?.close();
    await stack?.stop();
  });

  const send = async (content: string) => {
    const conversation = (
      await api.request('POST', '/api/v1/conversations', { token: session.accessToken, body: {} })
    ).body;
    const sent = await api.request('POST', `/api/v1/conversations/${conversation.id}/messages`, {
      token: session.accessToken,
      body: { content },
    });
    expect(sent.status).to.equal(202);
    return { conversationId: conversation.id as string, messageId: sent.body.assistantMessage.id as string };
  };

  const stream = (messageId: string, query = '') =>
    `${proxy.rewrite(stack.edge.url)}api/v1/messages/${messageId}/stream${query}`;

  it('a reconnecting EventSource gets every seq exactly once and the stored text', async () => {
    const { conversationId, messageId } = await send('Tell me a long story');
    const requests: Array<string | undefined> = [];
    const received: Received[] = [];
    let cut = false;
    const source = new EventSource(stream(messageId), {
      fetch: (url, init) => {
        const headers: Record<string, string> = {
          ...(init?.headers as Record<string, string>),
          authorization: `Bearer ${session.accessToken}`,
        };
        requests.push(headers['last-event-id'] ?? headers['Last-Event-ID']);
        return fetch(url, { ...init, headers } as RequestInit);
      },
    });
    try {
      const ended = await new Promise<Received>((resolve, reject) => {
        const deadline = setTimeout(() => reject(new Error('no chat:done within 45 s')), 45_000);
        const record = (event: string) => (message: MessageEvent) => {
          const entry = { event, id: message.lastEventId, data: JSON.parse(message.data) };
          received.push(entry);
          // Mid-answer the connection is cut under the client; it reconnects on its own.
          if (event === 'chat:token' && entry.data.seq >= 3 && !cut) {
            cut = true;
            proxy.sever();
            proxy.restore();
          }
          if (event === 'chat:done' || event === 'chat:error') {
            clearTimeout(deadline);
            resolve(entry);
          }
        };
        for (const event of ['chat:started', 'chat:token', 'chat:done', 'chat:error'])
          source.addEventListener(event, record(event) as (message: MessageEvent) => void);
      });
      expect(ended.event).to.equal('chat:done');
    } finally {
      source.close();
    }

    expect(cut).to.equal(true);
    // The second request carried the last id the client had.
    expect(requests).to.have.length(2);
    expect(requests[0]).to.equal(undefined);
    expect(requests[1]).to.match(/^\d+-0$/);
    const seqs = received.filter((entry) => entry.event === 'chat:token').map((entry) => entry.data.seq);
    expect(seqs).to.deep.equal(seqs.map((_, index) => index + 1));
    expect(received.filter((entry) => entry.event === 'chat:started')).to.have.length(1);
    const text = received
      .filter((entry) => entry.event === 'chat:token')
      .map((entry) => entry.data.delta)
      .join('');
    const messages = await api.request('GET', `/api/v1/conversations/${conversationId}/messages`, {
      token: session.accessToken,
    });
    const stored = messages.body.items.find((item: { id: string }) => item.id === messageId);
    expect(stored.status).to.equal('complete');
    expect(text).to.equal(stored.content);
  });

  it('answers 204 to a Last-Event-ID that is the end, so an EventSource stops reconnecting', async () => {
    const { messageId } = await send('Short one');
    const first = await fetch(stream(messageId), {
      headers: { authorization: `Bearer ${session.accessToken}` },
    });
    const ids = [...(await first.text()).matchAll(/^id: (.+)$/gm)].map((match) => match[1]!);
    expect(ids.at(-1)).to.match(/^\d+-2$/);
    const again = await fetch(stream(messageId), {
      headers: { authorization: `Bearer ${session.accessToken}`, 'last-event-id': ids.at(-1)! },
    });
    expect(again.status).to.equal(204);

    // Header and query: the later position wins, whichever carries it.
    const seqsAfter = async (query: string, lastEventId: string) => {
      const response = await fetch(stream(messageId, query), {
        headers: { authorization: `Bearer ${session.accessToken}`, 'last-event-id': lastEventId },
      });
      return [...(await response.text()).matchAll(/^id: (\d+)-0$/gm)].map((match) => Number(match[1]));
    };
    expect((await seqsAfter('?afterSeq=1', '3-0'))[0]).to.equal(4);
    expect((await seqsAfter('?afterSeq=3', '1-0'))[0]).to.equal(4);

    const garbage = await fetch(stream(messageId), {
      headers: { authorization: `Bearer ${session.accessToken}`, 'last-event-id': 'not-an-id' },
    });
    expect(garbage.status).to.equal(400);
    expect(((await garbage.json()) as { code: string }).code).to.equal('validation_failed');
  });
});
