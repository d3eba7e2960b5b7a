import { expect } from 'chai';
import pg from 'pg';
import { MIGRATIONS } from '../../migrations/index.ts';
import { ApiClient, type Session } from '../support/ApiClient.ts';
import { ChatClient } from '../support/ChatClient.ts';
import { ChildService } from '../support/ChildService.ts';
import { GroqStub } from '../support/GroqStub.ts';
import { PrivatePgBouncer } from '../support/privatePgBouncer.ts';
import {
  createTestDatabase,
  TEST_JWT_SECRET,
  TEST_REDIS_URL,
  uniqueQueuePrefix,
} from '../support/services.ts';

/**
 * What a server connection still carries after its client's transaction ended. In transaction
 * pooling the next transaction on it may be another process's, so anything here would leak.
 * The parameters PgBouncer itself sets per client (it tracks them) are not session state of ours.
 */
const LEFTOVER_SESSION_STATE = `
  select
    (select coalesce(json_agg(name order by name), '[]'::json) from pg_settings
      where source = 'session'
        and name not in ('application_name', 'client_encoding', 'DateStyle', 'TimeZone',
                         'standard_conforming_strings')) as settings,
    (select coalesce(json_agg(name), '[]'::json) from pg_prepared_statements) as prepared,
    (select coalesce(json_agg(c), '[]'::json) from pg_listening_channels() c) as listening,
    (select count(*)::int from pg_class where relpersistence = 't') as temp_tables,
    (select count(*)::int from pg_locks where locktype = 'advisory') as advisory_locks`;

const NO_LEFTOVERS = { settings: [], prepared: [], listening: [], temp_tables: 0, advisory_locks: 0 };

describe('PgBouncer in transaction pooling mode: migrations, chat and ingestion through one server connection', function () {
  this.timeout(120_000);
  let bouncer: PrivatePgBouncer;
  let stub: GroqStub;
  let directUrl: string;
  let bouncedUrl: string;
  let chatWorker: ChildService;
  let ingestWorker: ChildService;
  let edge: ChildService;
  let api: ApiClient;
  let alice: Session;
  let socket: ChatClient;

  /** A query through PgBouncer: with a pool of one it runs on the connection the processes share. */
  const throughBouncer = async <Row>(sql: string): Promise<Row[]> => {
    const client = new pg.Client({ connectionString: bouncedUrl });
    await client.connect();
    try {
      return (await client.query(sql)).rows;
    } finally {
      await client.end();
    }
  };
  const direct = async <Row>(sql: string, params: unknown[] = []): Promise<Row[]> => {
    const client = new pg.Client({ connectionString: directUrl });
    await client.connect();
    try {
      return (await client.query(sql, params)).rows;
    } finally {
      await client.end();
    }
  };

  before(async () => {
    // A pool of ONE server connection: the edge, both workers and this test interleave their
    // transactions on it, so session state left by any of them would be seen by the others.
    bouncer = await PrivatePgBouncer.start({ poolSize: 1 });
    directUrl = await createTestDatabase('pgbouncer');
    bouncedUrl = bouncer.urlFor(directUrl);
    stub = await GroqStub.start({ ttftMs: 5, tokensPerSecond: 2_000, answerTokens: 30 });
    const env = {
      DATABASE_URL: bouncedUrl,
      REDIS_URL: TEST_REDIS_URL,
      QUEUE_PREFIX: uniqueQueuePrefix('pgbouncer'),
      JWT_SECRET: TEST_JWT_SECRET,
      GROQ_API_KEY: 'test-key',
      GROQ_BASE_URL: stub.baseURL,
      STREAM_FLUSH_MS: '10',
      RETRIEVAL_MIN_SIMILARITY: '1',
      RATE_LIMIT_UPLOADS: '1000/1h',
      RATE_LIMIT_MESSAGES: '10000/1m',
    };
    // The chat worker starts first and applies the migrations, through PgBouncer.
    chatWorker = await ChildService.start(
      'workers/index.ts',
      { ...env, WORKER_QUEUES: 'chat,maintenance' },
      'workers started',
    );
    ingestWorker = await ChildService.start(
      'workers/index.ts',
      { ...env, WORKER_QUEUES: 'ingest' },
      'workers started',
    );
    const started = await ChildService.startEdge(env);
    edge = started.edge;
    api = new ApiClient(started.url);
    alice = await api.signup('alice');
    socket = await ChatClient.connect(started.url, alice.accessToken);
  });

  after(async () => {
    socket?.close();
    await Promise.all([edge?.stop(), chatWorker?.stop(), ingestWorker?.stop()]);
    await stub?.close();
    await bouncer?.stop();
  });

  it('applied every migration through PgBouncer', async () => {
    const applied = await direct<{ name: string }>('select name from mikro_orm_migrations order by id');
    expect(applied.map((row) => row.name.replace(/\.[jt]s$/, ''))).to.deep.equal(
      MIGRATIONS.map((migration) => migration.name),
    );
    const [vector] = await direct<{ extname: string }>(
      "select extname from pg_extension where extname = 'vector'",
    );
    expect(vector?.extname).to.equal('vector');
  });

  it('streams an answer and stores it (send → chat worker → stub → socket)', async () => {
    const conversation = await api.request('POST', '/api/v1/conversations', {
      token: alice.accessToken,
      body: { title: 'through the pooler' },
    });
    expect(conversation.status).to.equal(201);
    const sent = await socket.send({
      conversationId: conversation.body.id,
      content: 'Hello through PgBouncer',
    });
    const answer = await socket.untilEnded(sent.assistantMessageId);
    expect(answer.error).to.equal(undefined);
    const streamed = socket.text(sent.assistantMessageId);
    expect(streamed.gapFree).to.equal(true);
    expect(answer.done!.content).to.equal(streamed.text).and.not.equal('');
    const [stored] = await direct<{ content: string; status: string }>(
      'select content, status from messages where id = $1',
      [sent.assistantMessageId],
    );
    expect(stored).to.deep.equal({ content: streamed.text, status: 'complete' });
  });

  it('ingests uploads while answers stream, then answers a grounded question citing the document', async () => {
    const conversation = await api.request('POST', '/api/v1/conversations', {
      token: alice.accessToken,
      body: { title: 'chatter' },
    });
    // The two workers' transactions interleave on the one server connection.
    const [upload, ...sends] = await Promise.all([
      api.upload(
        alice.accessToken,
        'zephyr-manual.md',
        '# Zephyr turbine manual\n\nZephyr turbines need maintenance every 42 days; the blade bearings are greased and the yaw brake is tested.\n',
      ),
      ...[1, 2, 3].map((n) =>
        socket.send({ conversationId: conversation.body.id, content: `Question ${n}` }),
      ),
    ]);
    expect(upload.status, JSON.stringify(upload.body)).to.equal(202);
    const events = await socket.untilDocumentSettles(upload.body.id);
    expect(events.at(-1)).to.include({ status: 'ready', progress: 1 });
    for (const sent of sends) {
      const answer = await socket.untilEnded(sent.assistantMessageId);
      expect(answer.done?.content, JSON.stringify(answer.error)).to.equal(
        socket.text(sent.assistantMessageId).text,
      );
    }

    stub.configure({ answer: () => ['Every ', '42 ', 'days ', '[1].'] });
    try {
      const grounded = await api.request('POST', '/api/v1/conversations', {
        token: alice.accessToken,
        body: { title: 'turbines', mode: 'grounded' },
      });
      const sent = await socket.send({
        conversationId: grounded.body.id,
        content: 'How often do zephyr turbines need maintenance?',
      });
      const answer = await socket.untilEnded(sent.assistantMessageId);
      expect(answer.error).to.equal(undefined);
      expect(answer.done!.content).to.equal('Every 42 days [1].');
      expect(answer.done!.citations).to.have.length(1);
      expect(answer.done!.citations[0]).to.include({
        n: 1,
        documentId: upload.body.id,
        filename: 'zephyr-manual.md',
      });
      expect(answer.done!.citations[0]!.snippet).to.include('every 42 days');
    } finally {
      stub.reset();
    }
  });

  it('shared one server connection, and left no session state on it', async () => {
    const backends = await direct<{ n: number }>(
      "select count(*)::int as n from pg_stat_activity where datname = current_database() and backend_type = 'client backend' and pid <> pg_backend_pid()",
    );
    expect(backends[0]!.n, 'PgBouncer opened one server connection for every process').to.equal(1);
    const [state] = await throughBouncer<typeof NO_LEFTOVERS>(LEFTOVER_SESSION_STATE);
    expect(state).to.deep.equal(NO_LEFTOVERS);
  });

  it('the check above sees session state when a client leaves some (a SET and a named prepared statement)', async () => {
    const client = new pg.Client({ connectionString: bouncedUrl });
    await client.connect();
    try {
      await client.query("set work_mem = '7MB'");
      await client.query({ name: 'leaked', text: 'select 1 as one' });
    } finally {
      await client.end();
    }
    try {
      const [state] = await throughBouncer<typeof NO_LEFTOVERS>(LEFTOVER_SESSION_STATE);
      expect(state).to.deep.include({ settings: ['work_mem'], prepared: ['leaked'] });
    } finally {
      await throughBouncer('discard all');
    }
  });
});
