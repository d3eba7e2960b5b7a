import { AutoTokenizer, env as transformersEnv } from '@huggingface/transformers';
import { QueueEvents } from 'bullmq';
import { expect } from 'chai';
import pg from 'pg';
import { NOTHING_RELEVANT_ANSWER } from '../../src/answers/context/groundedPrompt.ts';
import { loadConfig } from '../../src/config.ts';
import { chunkDocument } from '../../src/ingest/chunker.ts';
import type { DocumentKind } from '../../src/ingest/documentKind.ts';
import { parseDocument } from '../../src/ingest/parseDocument.ts';
import { bullmqPrefixOf } from '../../src/redis/keys.ts';
import { ApiClient, type Session } from '../support/ApiClient.ts';
import { ChatClient } from '../support/ChatClient.ts';
import { ChildService } from '../support/ChildService.ts';
import { GroqStub } from '../support/GroqStub.ts';
import { startInProcessEdge, type TestEdge } from '../support/inProcessEdge.ts';
import { jobFinished } from '../support/jobOutcome.ts';
import { encodeLatin1, encodeSingleByte, encodeUtf16 } from '../support/legacyText.ts';
import { makeCorruptPdf, makeImageOnlyPdf, makeTextPdf } from '../support/pdfFactory.ts';
import {
  createTestDatabase,
  TEST_EMBEDDING_ENV,
  TEST_JWT_SECRET,
  TEST_REDIS_ENV,
  testRedisClient,
  uniqueQueuePrefix,
} from '../support/services.ts';

const MAX_UPLOAD_BYTES = 3 * 1024 * 1024;
const DOCUMENT_MIME_OF = { text: 'text/plain', markdown: 'text/markdown' } as const;

/** Deterministic filler prose: `count` sentences drawn from a fixed vocabulary. */
function prose(count: number, seed: number): string[] {
  const words = [
    'harbour',
    'ledger',
    'copper',
    'orchard',
    'lantern',
    'meadow',
    'quarry',
    'violet',
    'saddle',
    'timber',
    'beacon',
    'canal',
    'thistle',
    'garnet',
    'pewter',
    'marble',
    'falcon',
    'willow',
    'cobalt',
    'juniper',
  ];
  let state = seed;
  const next = () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state;
  };
  return Array.from({ length: count }, () => {
    const length = 8 + (next() % 10);
    const sentence = Array.from({ length }, () => words[next() % words.length]).join(' ');
    return `${sentence[0]!.toUpperCase()}${sentence.slice(1)}.`;
  });
}

describe('documents: upload → ingest worker → hybrid retrieval → cited answers', function () {
  this.timeout(120_000);
  let stub: GroqStub;
  let edge: TestEdge;
  let worker: ChildService;
  let api: ApiClient;
  let db: pg.Client;
  let queueEvents: QueueEvents;
  let alice: Session;
  let bob: Session;
  let aliceSocket: ChatClient;
  let bobSocket: ChatClient;
  let countTokens: (text: string) => number;
  const config = loadConfig({ ...TEST_EMBEDDING_ENV });

  /** The chunks the ingest worker must produce for these bytes (same parser, chunker, tokenizer). */
  const expectedChunks = async (bytes: Uint8Array, kind: DocumentKind) =>
    chunkDocument(await parseDocument(bytes, kind), {
      maxTokens: config.chunking.tokens,
      overlap: config.chunking.overlap,
      countTokens,
    });

  const uploadAndSettle = async (
    session: Session,
    socket: ChatClient,
    filename: string,
    bytes: Uint8Array | string,
  ) => {
    const response = await api.upload(session.accessToken, filename, bytes);
    expect(response.status, JSON.stringify(response.body)).to.equal(202);
    const events = await socket.untilDocumentSettles(response.body.id);
    return { document: response.body, events };
  };

  const storedChunks = async (documentId: string) =>
    (
      await db.query(
        'select ordinal, page, content, token_count, embedding is not null as embedded from document_chunks where document_id = $1 order by ordinal',
        [documentId],
      )
    ).rows;

  const countRows = async (table: string, userId: string) =>
    Number((await db.query(`select count(*) from ${table} where user_id = $1`, [userId])).rows[0].count);

  before(async () => {
    transformersEnv.localModelPath = TEST_EMBEDDING_ENV.MODELS_DIR;
    transformersEnv.allowRemoteModels = false;
    const tokenizer = await AutoTokenizer.from_pretrained(TEST_EMBEDDING_ENV.EMBEDDING_MODEL);
    countTokens = (text) => tokenizer.encode(text, { add_special_tokens: false }).length;

    stub = await GroqStub.start({ ttftMs: 5, tokensPerSecond: 2_000 });
    const env = {
      DATABASE_URL: await createTestDatabase('documents'),
      ...TEST_REDIS_ENV,
      QUEUE_PREFIX: uniqueQueuePrefix('documents'),
      JWT_SECRET: TEST_JWT_SECRET,
      GROQ_API_KEY: 'test-key',
      GROQ_BASE_URL: stub.baseURL,
      MAX_UPLOAD_BYTES: String(MAX_UPLOAD_BYTES),
      EMBEDDING_BATCH_SIZE: '8',
      // Random-weight test vectors carry no meaning: only word matches may count as relevant.
      RETRIEVAL_MIN_SIMILARITY: '1',
      RATE_LIMIT_UPLOADS: '1000/1h',
    };
    edge = await startInProcessEdge(env);
    worker = await ChildService.start(
      'workers/index.ts',
      { ...env, WORKER_QUEUES: 'ingest,chat' },
      'workers started',
    );
    api = new ApiClient(edge.url);
    db = new pg.Client({ connectionString: env.DATABASE_URL });
    await db.connect();
    queueEvents = new QueueEvents('ingest', {
      connection: testRedisClient('blocking'),
      prefix: bullmqPrefixOf(loadConfig({ ...env })),
    });
    await queueEvents.waitUntilReady();
    alice = await api.signup('alice');
    bob = await api.signup('bob');
    aliceSocket = await ChatClient.connect(edge.url, alice.accessToken);
    bobSocket = await ChatClient.connect(edge.url, bob.accessToken);
  });

  after(async () => {
    aliceSocket?.close();
    bobSocket?.close();
    await queueEvents?.close();
    await db?.end();
    await worker?.stop();
    await edge?.stop();
    await stub?.close();
  });

  it('ingests a multi-page PDF: progress events in order, ready with the right chunks and pages', async () => {
    const pages = Array.from({ length: 12 }, (_, page) => [`Chapter ${page + 1}`, ...prose(30, page + 1)]);
    const bytes = makeTextPdf(pages);
    const { document, events } = await uploadAndSettle(alice, aliceSocket, 'handbook.pdf', bytes);
    expect(document).to.include({ status: 'queued', filename: 'handbook.pdf', mime: 'application/pdf' });

    const expected = await expectedChunks(bytes, 'pdf');
    expect(expected.length).to.be.greaterThan(3);
    expect(events[0]).to.include({ status: 'processing', progress: 0 });
    expect(events.at(-1)).to.deep.equal({
      documentId: document.id,
      status: 'ready',
      progress: 1,
      chunkCount: expected.length,
    });
    const progress = events.map((event) => event.progress);
    expect(progress, 'progress only grows').to.deep.equal([...progress].sort((a, b) => a - b));
    // One event as processing starts, then one per stored batch of 8 but the last (which says ready).
    const batches = Math.ceil(expected.length / 8);
    expect(batches).to.be.greaterThan(2);
    expect(events.filter((event) => event.status === 'processing')).to.have.length(batches);

    const stored = await storedChunks(document.id);
    expect(stored.map((row) => row.content)).to.deep.equal(expected.map((chunk) => chunk.content));
    expect(stored.map((row) => row.page)).to.deep.equal(expected.map((chunk) => chunk.page));
    expect(stored.every((row) => row.embedded)).to.equal(true);
    expect(new Set(stored.map((row) => row.page))).to.have.property('size', 12);

    const fetched = await api.request('GET', `/api/v1/documents/${document.id}`, {
      token: alice.accessToken,
    });
    expect(fetched.body).to.include({
      status: 'ready',
      progress: 1,
      chunkCount: expected.length,
      pageCount: 12,
    });
  });

  it('ingests plain text and Markdown, recognised by content', async () => {
    const text = `${prose(40, 7).join(' ')}\n\n${prose(40, 8).join(' ')}\n`;
    const markdown = `# Field notes\n\n${prose(30, 9).join(' ')}\n\n## Details\n\n- ${prose(5, 10).join('\n- ')}\n\n[a link](https://example.com) and **bold** text.\n`;
    // The names say nothing useful: the content decides.
    const txt = await uploadAndSettle(alice, aliceSocket, 'notes.data', text);
    const md = await uploadAndSettle(alice, aliceSocket, 'field-notes.md', markdown);
    expect(txt.document.mime).to.equal('text/plain');
    expect(md.document.mime).to.equal('text/markdown');
    for (const [result, bytes, kind] of [
      [txt, text, 'text'],
      [md, markdown, 'markdown'],
    ] as const) {
      const expected = await expectedChunks(new TextEncoder().encode(bytes), kind);
      expect(result.events.at(-1)).to.include({ status: 'ready', chunkCount: expected.length });
      expect((await storedChunks(result.document.id)).map((row) => row.content)).to.deep.equal(
        expected.map((chunk) => chunk.content),
      );
    }
    const stored = (await storedChunks(md.document.id)).map((row) => row.content).join('\n');
    expect(stored).to.include('Field notes').and.not.include('**').and.not.include('](https://');
  });

  it('ingests Windows-1252, Latin-1 and UTF-16 (with BOM) text and Markdown as their text, refuses Windows-1251 naming it', async () => {
    const note = `café naïve – € ${prose(12, 31).join(' ')}\n`;
    const markdown = `# Café naïve – €\n\n${prose(12, 32).join(' ')}\n\n- crème brûlée\n`;
    const latin1 = `Grüße aus Zürich, señor. ${prose(12, 33).join(' ')}\n`;
    const uploads = [
      { name: 'w1252.txt', bytes: encodeSingleByte(note, 'windows-1252'), text: note, kind: 'text' },
      {
        name: 'w1252.md',
        bytes: encodeSingleByte(markdown, 'windows-1252'),
        text: markdown,
        kind: 'markdown',
      },
      { name: 'latin1.txt', bytes: encodeLatin1(latin1), text: latin1, kind: 'text' },
      { name: 'utf16le.txt', bytes: encodeUtf16(`${note}le`, 'le'), text: `${note}le`, kind: 'text' },
      { name: 'utf16be.md', bytes: encodeUtf16(markdown, 'be'), text: markdown, kind: 'markdown' },
    ] as const;
    for (const upload of uploads) {
      const { document, events } = await uploadAndSettle(alice, aliceSocket, upload.name, upload.bytes);
      expect(document.mime, upload.name).to.equal(DOCUMENT_MIME_OF[upload.kind]);
      // The chunks are those of the same text in UTF-8.
      const expected = await expectedChunks(new TextEncoder().encode(upload.text), upload.kind);
      expect(events.at(-1), upload.name).to.include({ status: 'ready', chunkCount: expected.length });
      const stored = (await storedChunks(document.id)).map((row) => row.content);
      expect(stored, upload.name).to.deep.equal(expected.map((chunk) => chunk.content));
    }
    const stored = (
      await db.query('select content from document_chunks where content like $1', ['café naïve – €%'])
    ).rows;
    expect(stored.length, 'the Windows-1252 and UTF-16LE notes').to.equal(2);

    const before = await countRows('documents', alice.user.id);
    const russian = 'Привет, мир! Как дела сегодня? Мы идём в кино вечером, а потом домой.\n';
    const refused = await api.upload(
      alice.accessToken,
      'russian.txt',
      encodeSingleByte(russian, 'windows-1251'),
    );
    expect(refused.status).to.equal(415);
    expect(refused.headers.get('content-type')).to.match(/^application\/problem\+json/);
    expect(refused.body).to.include({
      code: 'unsupported_document',
      looksLike: 'windows-1251 (Russian) text',
    });
    expect(refused.body.detail).to.include('windows-1251 (Russian)').and.include('UTF-8');
    expect(await countRows('documents', alice.user.id)).to.equal(before);
  });

  it('returns the existing document when the same bytes are uploaded again', async () => {
    const bytes = `Duplicate detection test. ${prose(10, 21).join(' ')}`;
    const first = await uploadAndSettle(alice, aliceSocket, 'once.txt', bytes);
    const again = await api.upload(alice.accessToken, 'renamed.txt', bytes);
    expect(again.status).to.equal(200);
    expect(again.body).to.include({ id: first.document.id, status: 'ready', filename: 'once.txt' });
    const rows = await db.query('select count(*) from documents where user_id = $1 and sha256 = $2', [
      alice.user.id,
      first.document.sha256,
    ]);
    expect(Number(rows.rows[0].count)).to.equal(1);
    // Another user uploading the same bytes gets a document of their own.
    const bobs = await uploadAndSettle(bob, bobSocket, 'once.txt', bytes);
    expect(bobs.document.id).to.not.equal(first.document.id);
  });

  it('refuses oversized, unrecognised and non-multipart uploads with problem+json, storing nothing', async () => {
    const before = await countRows('documents', alice.user.id);
    const oversized = await api.upload(alice.accessToken, 'big.txt', 'a'.repeat(MAX_UPLOAD_BYTES + 1));
    expect(oversized.status).to.equal(413);
    expect(oversized.headers.get('content-type')).to.match(/^application\/problem\+json/);
    expect(oversized.body).to.include({ code: 'payload_too_large', limitBytes: MAX_UPLOAD_BYTES });

    // A Windows executable renamed .pdf: the MZ header gives it away.
    const exe = new Uint8Array(4_096);
    exe.set([0x4d, 0x5a, 0x90, 0x00, 0x03]);
    const renamed = await api.upload(alice.accessToken, 'invoice.pdf', exe);
    expect(renamed.status).to.equal(415);
    expect(renamed.body.code).to.equal('unsupported_document');

    const json = await api.request('POST', '/api/v1/documents', {
      token: alice.accessToken,
      body: { file: 'x' },
    });
    expect(json.status).to.equal(415);
    const wrongField = await api.upload(alice.accessToken, 'a.txt', 'hello there', 'document');
    expect(wrongField.status).to.equal(400);
    expect(wrongField.body.errors[0].path).to.equal('body.file');
    const anonymous = await fetch(`${edge.url}/api/v1/documents`, { method: 'POST', body: new FormData() });
    expect(anonymous.status).to.equal(401);

    expect(await countRows('documents', alice.user.id)).to.equal(before);
    const files = await db.query(
      'select count(*) from document_files f join documents d on d.id = f.document_id where d.user_id = $1',
      [alice.user.id],
    );
    expect(Number(files.rows[0].count)).to.equal(before);
  });

  it('ends a corrupt PDF and a PDF without text `failed` with a readable reason and no chunks', async () => {
    const corrupt = await uploadAndSettle(alice, aliceSocket, 'broken.pdf', makeCorruptPdf());
    const scanned = await uploadAndSettle(alice, aliceSocket, 'scan.pdf', makeImageOnlyPdf(3));
    for (const [{ document, events }, reason] of [
      [corrupt, /could not be read as a PDF/],
      [scanned, /no extractable text/i],
    ] as const) {
      const last = events.at(-1)!;
      expect(last.status).to.equal('failed');
      expect(last.error).to.match(reason);
      const fetched = await api.request('GET', `/api/v1/documents/${document.id}`, {
        token: alice.accessToken,
      });
      expect(fetched.body.status).to.equal('failed');
      expect(fetched.body.error).to.match(reason);
      expect(await storedChunks(document.id)).to.have.length(0);
    }
  });

  it('answers a grounded question from the passage that holds it, citing it; other users’ documents stay out', async () => {
    const manual = `# Zephyr turbine manual\n\n${prose(20, 31).join(' ')}\n\nZephyr turbines need maintenance every 42 days; the blade bearings are greased and the yaw brake is tested.\n\n${prose(20, 32).join(' ')}\n`;
    const { document } = await uploadAndSettle(alice, aliceSocket, 'zephyr-manual.md', manual);
    await uploadAndSettle(alice, aliceSocket, 'recipes.txt', `Lemon cake recipe. ${prose(30, 33).join(' ')}`);
    // Bob's document matches the question even better; it must never reach Alice's prompt.
    await uploadAndSettle(
      bob,
      bobSocket,
      'bob-zephyr.txt',
      'How often do Zephyr turbines need maintenance? Zephyr turbines need maintenance every 99 days, often.',
    );

    stub.configure({ answer: () => ['Every ', '42 ', 'days ', '[1].'] });
    try {
      const conversation = await api.request('POST', '/api/v1/conversations', {
        token: alice.accessToken,
        body: { title: 'turbines', mode: 'grounded' },
      });
      const sent = await aliceSocket.send({
        conversationId: conversation.body.id,
        content: 'How often do zephyr turbines need maintenance?',
      });
      const answer = await aliceSocket.untilEnded(sent.assistantMessageId);
      expect(answer.error).to.equal(undefined);
      expect(answer.done!.content).to.equal('Every 42 days [1].');

      const request = stub.requests.find((record) =>
        String(record.body.messages.at(-1)?.content).includes('How often do zephyr turbines'),
      )!;
      const system = String(request.body.messages[0]!.content);
      expect(system).to.match(/\[1\] \(zephyr-manual\.md\)\n[^[]*every 42 days/);
      expect(system).to.not.include('99 days');

      const [citation, ...others] = answer.done!.citations;
      expect(others).to.have.length(0);
      expect(citation).to.include({ n: 1, documentId: document.id, filename: 'zephyr-manual.md' });
      expect(citation!.snippet).to.include('every 42 days');
      const chunk = await db.query('select content from document_chunks where id = $1 and document_id = $2', [
        citation!.chunkId,
        document.id,
      ]);
      expect(chunk.rows[0].content).to.include('every 42 days');
      const stored = await api.request('GET', `/api/v1/conversations/${conversation.body.id}/messages`, {
        token: alice.accessToken,
      });
      expect(stored.body.items.at(-1).citations).to.deep.equal(answer.done!.citations);
    } finally {
      stub.reset();
    }
  });

  it('says the documents hold no answer, without asking the model, when nothing relevant is found', async () => {
    const requestsBefore = stub.requests.length;
    const sent = await aliceSocket.send({
      content: 'Who painted the Sistine Chapel ceiling?',
      mode: 'grounded',
    });
    const answer = await aliceSocket.untilEnded(sent.assistantMessageId);
    expect(answer.done).to.include({ content: NOTHING_RELEVANT_ANSWER, status: 'complete' });
    expect(answer.done!.citations).to.deep.equal([]);
    expect(stub.requests.filter((record) => record.body.stream).length).to.equal(
      stub.requests.slice(0, requestsBefore).filter((record) => record.body.stream).length,
    );
  });

  it('keeps documents private: another user gets 404 for reading, deleting or attaching them', async () => {
    const { document } = await uploadAndSettle(
      alice,
      aliceSocket,
      'private.txt',
      `Private. ${prose(5, 41).join(' ')}`,
    );
    for (const [method, path, body] of [
      ['GET', `/api/v1/documents/${document.id}`, undefined],
      ['DELETE', `/api/v1/documents/${document.id}`, undefined],
      ['POST', '/api/v1/conversations', { documentIds: [document.id] }],
    ] as const) {
      const response = await api.request(method, path, { token: bob.accessToken, body });
      expect(response.status, `${method} ${path}`).to.equal(404);
    }
    const list = await api.request('GET', '/api/v1/documents?limit=100', { token: bob.accessToken });
    expect(list.body.items.map((item: { id: string }) => item.id)).to.not.include(document.id);
    expect(await storedChunks(document.id)).to.not.have.length(0);
  });

  it('stops ingestion when a document is deleted while processing, leaving no chunks', async () => {
    const paragraphs = Array.from({ length: 800 }, (_, index) => prose(12, 1_000 + index).join(' '));
    const response = await api.upload(alice.accessToken, 'long.txt', paragraphs.join('\n\n'));
    expect(response.status).to.equal(202);
    const id = response.body.id as string;
    // Delete as soon as the first batches are stored.
    await aliceSocket.until(() =>
      aliceSocket.progressOf(id).some((event) => event.status === 'processing' && event.progress > 0),
    );
    const deleted = await api.request('DELETE', `/api/v1/documents/${id}`, { token: alice.accessToken });
    expect(deleted.status).to.equal(204);

    const result = (await jobFinished(edge.runtime, 'ingest', id)) as { outcome: string };
    expect(result.outcome).to.be.oneOf(['stopped', 'deleted']);
    expect(aliceSocket.progressOf(id).some((event) => event.status === 'ready')).to.equal(false);
    expect(await storedChunks(id)).to.have.length(0);
    const gone = await api.request('GET', `/api/v1/documents/${id}`, { token: alice.accessToken });
    expect(gone.status).to.equal(404);
  });

  it('finds finished messages by words and meaning once their embedding job ran (GET /search)', async () => {
    stub.configure({ answer: () => ['The ', 'observatory ', 'opens ', 'at ', 'dusk.'] });
    let sent: { assistantMessageId: string };
    // The job id comes from the send's answer: record every completion from before the send.
    const completions = new Map<string, unknown>();
    const waiters = new Map<string, (value: unknown) => void>();
    const record = ({ jobId, returnvalue }: { jobId: string; returnvalue: unknown }) => {
      const value = typeof returnvalue === 'string' ? JSON.parse(returnvalue) : returnvalue;
      completions.set(jobId, value);
      waiters.get(jobId)?.(value);
    };
    const completed = (jobId: string) =>
      completions.has(jobId)
        ? Promise.resolve(completions.get(jobId))
        : new Promise((resolve) => waiters.set(jobId, resolve));
    queueEvents.on('completed', record);
    try {
      const conversation = await api.request('POST', '/api/v1/conversations', {
        token: alice.accessToken,
        body: { title: 'stars' },
      });
      sent = await aliceSocket.send({
        conversationId: conversation.body.id,
        content: 'When does the hilltop observatory open?',
      });
      expect(await completed(`embed-${sent.assistantMessageId}`)).to.deep.equal({ embedded: 2 });
    } finally {
      queueEvents.off('completed', record);
      stub.reset();
    }
    const embedded = await db.query(
      'select count(*) from messages where user_id = $1 and embedding is not null and content like $2',
      [alice.user.id, '%observatory%'],
    );
    expect(Number(embedded.rows[0].count)).to.equal(2);

    const found = await api.request('GET', '/api/v1/search?q=observatory%20dusk', {
      token: alice.accessToken,
    });
    expect(found.status).to.equal(200);
    expect(found.body.mode).to.equal('hybrid');
    expect(found.body.items[0]).to.include({ role: 'assistant', messageId: sent.assistantMessageId });
    expect(found.body.items[0].snippet).to.include('observatory');

    const bobs = await api.request('GET', '/api/v1/search?q=observatory', { token: bob.accessToken });
    expect(bobs.body.items).to.deep.equal([]);
    const invalid = await api.request('GET', '/api/v1/search?q=', { token: alice.accessToken });
    expect(invalid.status).to.equal(400);
  });
});
