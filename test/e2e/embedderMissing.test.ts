import { expect } from 'chai';
import { EmbedderUnavailableError } from '../../src/embeddings/EmbedderUnavailableError.ts';
import type { ReadinessReport } from '../../src/health/Readiness.ts';
import { ApiClient, type Session } from '../support/ApiClient.ts';
import { ChatClient } from '../support/ChatClient.ts';
import { type ChatStack, startChatStack } from '../support/chatStack.ts';

/** What users see when the embedding model is not there: their words, not the operator's. */
describe('without the embedding model', function () {
  this.timeout(60_000);
  let stack: ChatStack;
  let api: ApiClient;
  let session: Session;
  let client: ChatClient;

  before(async () => {
    stack = await startChatStack('no_model', { ttftMs: 5 }, { EMBEDDING_MODEL: 'no-such-model' });
    api = new ApiClient(stack.edge.url);
    session = await api.signup('no-model');
    client = await ChatClient.connect(stack.edge.url, session.accessToken);
  });
  after(async () => {
    client?.close();
    await stack?.stop();
  });

  /** Operator details that must not reach users: a path on the server, the fix's command. */
  const expectNoOperatorDetail = (text: string) => {
    expect(text).not.to.match(/\/[\w.-]+\/[\w.-]+/);
    expect(text).not.to.include('models:pull');
    expect(text).not.to.include('MODELS_DIR');
    expect(text).not.to.include('no-such-model');
  };

  it('ends a grounded question with chat:error embedder_unavailable, in words for the user', async () => {
    const conversation = await api.request('POST', '/api/v1/conversations', {
      token: session.accessToken,
      body: { title: 'grounded', mode: 'grounded' },
    });
    const turn = await client.send({
      conversationId: conversation.body.id,
      content: 'what do my notes say?',
    });
    const { error } = await client.untilEnded(turn.assistantMessageId);
    expect(error).to.include({ code: EmbedderUnavailableError.CODE, retryable: true });
    expectNoOperatorDetail(error!.message);
    // The model was never asked.
    expect(stack.stub.requests.filter((request) => request.body.stream)).to.have.length(0);
    const page = await api.request('GET', `/api/v1/conversations/${turn.conversationId}/messages`, {
      token: session.accessToken,
    });
    const stored = page.body.items.find((item: { id: string }) => item.id === turn.assistantMessageId);
    expect(stored).to.include({ status: 'failed', error: error!.message });
  });

  it('refuses uploads up front with 503 and Retry-After, storing nothing', async () => {
    const response = await api.upload(session.accessToken, 'notes.txt', 'Some notes to ingest.');
    expect(response.status).to.equal(503);
    expect(response.headers.get('content-type')).to.match(/^application\/problem\+json/);
    expect(response.headers.get('retry-after')).to.equal('60');
    expect(response.body).to.include({ code: 'embedder_unavailable' });
    expectNoOperatorDetail(response.body.detail);
    const list = await api.request('GET', '/api/v1/documents', { token: session.accessToken });
    expect(list.body.items).to.deep.equal([]);
  });

  it('keeps the operator detail for /health/ready', async () => {
    const report = (await (await fetch(`${stack.edge.url}/health/ready`)).json()) as ReadinessReport;
    expect(report.failing).to.include('embedder');
    expect(report.checks.embedder!.error).to.include('no-such-model');
  });
});
