import { expect } from 'chai';
import { Document, DocumentChunk, User } from '../../src/db/entities/index.ts';
import { DocumentLifecycle } from '../../src/ingest/DocumentLifecycle.ts';
import { createRealtimeEmitter } from '../../src/relay/emitter.ts';
import { Notifier } from '../../src/relay/Notifier.ts';
import { ApiClient } from '../support/ApiClient.ts';
import { ChatClient } from '../support/ChatClient.ts';
import { createDocument, createUser } from '../support/factories.ts';
import { startInProcessEdge, type TestEdge } from '../support/inProcessEdge.ts';
import { createTestDatabase, TEST_REDIS_ENV, uniqueQueuePrefix } from '../support/services.ts';

/**
 * The one place a document ends, on real Postgres and Redis, its owner's tab connected to a real
 * edge: what is stored, and that only the ender that changed the row tells the tab.
 */
describe('DocumentLifecycle: a document ends once, and its owner is told', function () {
  this.timeout(30_000);
  let edge: TestEdge;
  let documents: DocumentLifecycle;
  let tab: ChatClient;
  let owner: User;

  before(async () => {
    edge = await startInProcessEdge({
      DATABASE_URL: await createTestDatabase('document_lifecycle'),
      ...TEST_REDIS_ENV,
      QUEUE_PREFIX: uniqueQueuePrefix('document-lifecycle'),
    });
    const { runtime } = edge;
    const emitter = createRealtimeEmitter(
      runtime.redis.create('pubsub', 'lifecycle-test'),
      runtime.config.redis.queuePrefix,
    );
    documents = new DocumentLifecycle({ notify: new Notifier(emitter), logger: runtime.logger });
    const session = await new ApiClient(edge.url).signup('lifecycle');
    tab = await ChatClient.connect(edge.url, session.accessToken);
    owner = await edge.runtime.orm.em.fork().findOneOrFail(User, { id: session.user.id });
  });
  after(async () => {
    tab?.close();
    await edge?.stop();
  });

  const em = () => edge.runtime.orm.em.fork();
  const target = (document: Document) => ({ userId: owner.id, documentId: document.id });
  const stored = (document: Document) => em().findOneOrFail(Document, { id: document.id });
  /** Announces a marker after what the test did: notices arrive in order, so the tab has all before it. */
  const settle = async (document: Document) => {
    documents.progress(target(document), { progress: 0.999, chunkCount: 999 });
    await tab.until(() => tab.progressOf(document.id).some((event) => event.chunkCount === 999));
    return tab.progressOf(document.id).filter((event) => event.chunkCount !== 999);
  };

  it('fails an unfinished document once: its chunks go, the first ender alone announces', async () => {
    const document = await createDocument(em(), owner, { status: 'processing', chunks: ['a', 'b', 'c'] });
    expect(await documents.fail(em(), target(document), 'first reason')).to.equal(true);
    expect(await documents.fail(em(), target(document), 'second reason', { maxWaitMs: 0 })).to.equal(false);

    expect(await stored(document)).to.include({ status: 'failed', error: 'first reason' });
    expect(await em().count(DocumentChunk, { document: document.id })).to.equal(0);
    expect(await settle(document)).to.deep.equal([
      { documentId: document.id, status: 'failed', progress: 0, error: 'first reason' },
    ]);
  });

  it('leaves a document that is already ready as it is, chunks and all', async () => {
    const document = await createDocument(em(), owner, { status: 'ready', chunks: ['kept'] });
    expect(await documents.fail(em(), target(document), 'too late')).to.equal(false);
    expect(await stored(document)).to.include({ status: 'ready', error: null });
    expect(await em().count(DocumentChunk, { document: document.id })).to.equal(1);
    expect(await settle(document)).to.deep.equal([]);
  });

  it('starts and readies a document, announcing each step and stamping each change', async () => {
    const document = await createDocument(em(), owner, { status: 'queued' });
    const dayAgo = new Date(Date.now() - 86_400_000);
    await em().nativeUpdate(Document, { id: document.id }, { updatedAt: dayAgo });
    expect(await documents.start(em(), target(document))).to.equal(true);
    expect((await stored(document)).updatedAt.getTime()).to.be.greaterThan(dayAgo.getTime());
    expect(await documents.ready(em(), target(document), { chunkCount: 4, pageCount: 2 })).to.equal(true);
    expect(await stored(document)).to.include({ status: 'ready', chunkCount: 4, pageCount: 2, error: null });
    expect((await settle(document)).map(({ status, progress }) => [status, progress])).to.deep.equal([
      ['processing', 0],
      ['ready', 1],
    ]);
  });

  it('says a deleted document is gone, and tells nobody', async () => {
    const document = await createDocument(em(), owner, { status: 'processing' });
    await em().nativeDelete(Document, { id: document.id });
    expect(await documents.start(em(), target(document))).to.equal(false);
    expect(await documents.ready(em(), target(document), { chunkCount: 1, pageCount: null })).to.equal(false);
    expect(await documents.fail(em(), target(document), 'gone')).to.equal(false);
    expect(await settle(document)).to.deep.equal([]);
  });

  it('touches only the owner’s document', async () => {
    const stranger = await createUser(em());
    const document = await createDocument(em(), owner, { status: 'processing' });
    const wrongOwner = { userId: stranger.id, documentId: document.id };
    expect(await documents.fail(em(), wrongOwner, 'not yours')).to.equal(false);
    expect(await stored(document)).to.include({ status: 'processing' });
  });
});
