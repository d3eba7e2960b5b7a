import { expect } from 'chai';
import fc from 'fast-check';
import { io, type Socket } from 'socket.io-client';
import { ApiClient, type Session } from '../support/ApiClient.ts';
import { ChildService } from '../support/ChildService.ts';
import { declaredEvents } from '../support/declaredEvents.ts';
import {
  type BodySpec,
  badValue,
  bodyFor,
  encodeLoosely,
  Huge,
  jsonBodies,
  multipartBodies,
  nastyText,
  type RawUrlPart,
  urlPart,
  urlValue,
} from '../support/fuzzInputs.ts';
import { RowCounts } from '../support/rowCounts.ts';
import {
  createTestDatabase,
  TEST_JWT_SECRET,
  TEST_REDIS_URL,
  uniqueQueuePrefix,
} from '../support/services.ts';
import { expiredAccessToken } from '../support/tokens.ts';

/**
 * Malformed input for every operation in /openapi.json and every client → server socket event,
 * against a real edge in a child process (so a crash shows as an exit, not as a dead test run):
 * no 5xx, every 4xx is problem+json, a refused request writes no row, the process stays up.
 * Replay a failure with the seed it prints: FUZZ_SEED=<seed> (FUZZ_RUNS sets runs per property).
 */
const SEED = Number(process.env.FUZZ_SEED ?? 20_261_201);
const RUNS = Number(process.env.FUZZ_RUNS ?? 30);
const MAX_JSON_BYTES = 65_536;
const ADMIN = { email: 'fuzz-admin@example.com', password: 'admin password for tests' };
/** Socket.IO's client refuses to emit these (they are its own events). */
const RESERVED_EVENTS = new Set([
  'connect',
  'connect_error',
  'disconnect',
  'disconnecting',
  'newListener',
  'removeListener',
]);

type TokenKind = 'user' | 'admin' | 'none' | 'garbage' | 'expired';

interface OpenApiOperation {
  parameters?: { name: string; in: 'path' | 'query' }[];
  requestBody?: { content: Record<string, { schema?: { properties?: Record<string, unknown> } }> };
  responses: Record<string, unknown>;
}

interface RequestSpec {
  token: TokenKind;
  params: Record<string, string | Huge | RawUrlPart>;
  query: {
    known: Partial<Record<string, string | Huge | RawUrlPart | (string | Huge | RawUrlPart)[]>>;
    unknown: Record<string, string | Huge | RawUrlPart>;
  };
  body: BodySpec;
}

interface Answer {
  status: number;
  contentType: string;
  text: string;
}

const HTTP_METHODS = new Set(['get', 'post', 'put', 'patch', 'delete']);

describe(`fuzz: malformed input everywhere (FUZZ_SEED=${SEED} FUZZ_RUNS=${RUNS})`, function () {
  this.timeout(120_000);
  let edge: ChildService;
  let baseUrl: string;
  let rows: RowCounts;
  let counts: Record<string, number>;
  let user: Session;
  let victim: Session;
  let tokens: Record<TokenKind, string | undefined>;
  /** Ids of the fuzzing user's own things, and of another user's (which must stay invisible). */
  let ownIds: string[];
  let victimIds: string[];
  let operations: { method: string; path: string; operation: OpenApiOperation }[];

  before(async () => {
    const databaseUrl = await createTestDatabase('fuzz');
    edge = await ChildService.start(
      'src/web.ts',
      {
        DATABASE_URL: databaseUrl,
        REDIS_URL: TEST_REDIS_URL,
        QUEUE_PREFIX: uniqueQueuePrefix('fuzz'),
        JWT_SECRET: TEST_JWT_SECRET,
        PORT: '0',
        HOST: '127.0.0.1',
        ADMIN_EMAIL: ADMIN.email,
        ADMIN_PASSWORD: ADMIN.password,
        MAX_JSON_BYTES: String(MAX_JSON_BYTES),
        RATE_LIMIT_AUTH: '100000/1m',
        RATE_LIMIT_MESSAGES: '100000/1m',
        RATE_LIMIT_UPLOADS: '100000/1m',
      },
      'edge listening',
    );
    const { port } = await edge.waitFor((line) => line.msg === 'edge listening');
    baseUrl = `http://127.0.0.1:${port}`;
    const api = new ApiClient(baseUrl);
    const adminToken = (await api.request('POST', '/api/v1/auth/login', { body: ADMIN })).body.accessToken;
    [user, victim] = [await api.signup('fuzz'), await api.signup('victim')];
    tokens = {
      user: user.accessToken,
      admin: adminToken,
      none: undefined,
      garbage: 'not.a.jwt',
      expired: await expiredAccessToken(user.user.id),
    };
    const resourcesOf = async (session: Session) => {
      const as = { token: session.accessToken };
      const conversation = await api.request('POST', '/api/v1/conversations', {
        ...as,
        body: { title: 't' },
      });
      const sent = await api.request('POST', `/api/v1/conversations/${conversation.body.id}/messages`, {
        ...as,
        body: { content: 'hello' },
      });
      const document = await api.upload(session.accessToken, 'notes.txt', `notes of ${session.user.email}`);
      return [
        session.user.id,
        conversation.body.id,
        sent.body.userMessage.id,
        sent.body.assistantMessage.id,
        document.body.id,
      ] as string[];
    };
    [ownIds, victimIds] = [await resourcesOf(user), await resourcesOf(victim)];
    for (const id of [...ownIds, ...victimIds]) expect(id).to.be.a('string');

    const document = (await (await fetch(`${baseUrl}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, OpenApiOperation>>;
    };
    operations = Object.entries(document.paths).flatMap(([path, methods]) =>
      Object.entries(methods)
        .filter(([method]) => HTTP_METHODS.has(method))
        .map(([method, operation]) => ({ method, path, operation })),
    );
    rows = await RowCounts.connect(databaseUrl);
    counts = await rows.snapshot();
  });
  after(async () => {
    await rows?.close();
    await edge?.stop();
  });

  /** The edge still runs and answers; its last stderr lines explain a crash. */
  const expectAlive = async () => {
    expect(edge.process.exitCode, `edge exited:\n${edge.stderr.slice(-20).join('\n')}`).to.equal(null);
    expect((await fetch(`${baseUrl}/health`)).status).to.equal(200);
  };

  const send = async (method: string, url: string, init: RequestInit): Promise<Answer> => {
    let response: Response;
    try {
      response = await fetch(`${baseUrl}${url}`, { ...init, method });
    } catch (error) {
      const cause = (error as { cause?: unknown }).cause;
      throw new Error(
        `${method} ${url.slice(0, 200)}: no answer (${cause ?? error}); edge exit code ${edge.process.exitCode}\n${edge.stderr.slice(-20).join('\n')}`,
      );
    }
    const contentType = response.headers.get('content-type') ?? '';
    // An SSE stream of a real message stays open: its status and type are the answer.
    if (contentType.startsWith('text/event-stream')) {
      await response.body?.cancel();
      return { status: response.status, contentType, text: '' };
    }
    return { status: response.status, contentType, text: await response.text() };
  };

  /** No undocumented 5xx; a 4xx is problem+json; a refused request changed no table's row count. */
  const expectWellRefused = async (label: string, answer: Answer, documented: string[]) => {
    const before = counts;
    counts = await rows.snapshot();
    if (answer.status >= 500) {
      expect(
        documented.filter((status) => status !== '500'),
        `${label} → ${answer.status} ${answer.text.slice(0, 300)}`,
      ).to.include(String(answer.status));
      return;
    }
    if (answer.status < 400) return;
    expect(answer.contentType, `${label} → ${answer.status}`).to.match(/^application\/problem\+json/);
    const problem = JSON.parse(answer.text);
    expect(problem, label).to.include.all.keys('type', 'title', 'status', 'detail', 'code');
    expect(problem.status, label).to.equal(answer.status);
    expect(problem.type, label).to.be.a('string');
    expect(problem.title, label).to.be.a('string');
    expect(problem.code, label).to.match(/^[a-z_]+$/);
    expect(counts, `${label} → ${answer.status} wrote rows`).to.deep.equal(before);
  };

  const requests = (path: string, method: string, operation: OpenApiOperation): fc.Arbitrary<RequestSpec> => {
    const admin = path.startsWith('/api/v1/admin');
    // Admin requests never touch the fuzzing user (deleting it would end the run's coverage).
    const ids = admin ? [...victimIds, 'model', 'temperature', 'topK'] : [...ownIds, ...victimIds];
    const named = (where: 'path' | 'query') =>
      (operation.parameters ?? []).filter((parameter) => parameter.in === where).map(({ name }) => name);
    const content = operation.requestBody?.content ?? {};
    const value = urlValue(ids);
    const token = fc.oneof(
      { arbitrary: fc.constant<TokenKind>(admin ? 'admin' : 'user'), weight: 4 },
      { arbitrary: fc.constantFrom<TokenKind>('user', 'none', 'garbage', 'expired'), weight: 1 },
    );
    return fc.record({
      token,
      params: fc.record(
        Object.fromEntries(
          named('path').map((name) => [
            name,
            fc.oneof({ arbitrary: fc.constantFrom(...ids), weight: 2 }, { arbitrary: value, weight: 3 }),
          ]),
        ),
      ),
      query: fc.record({
        known: fc.record(
          Object.fromEntries(
            named('query').map((name) => [
              name,
              fc.oneof(value, fc.array(value, { minLength: 2, maxLength: 3 })),
            ]),
          ),
          { requiredKeys: [] },
        ),
        unknown: fc.dictionary(fc.string({ minLength: 1, maxLength: 6 }), value, { maxKeys: 2 }),
      }),
      body:
        method === 'get'
          ? fc.constant<BodySpec>({ kind: 'none' })
          : 'multipart/form-data' in content
            ? multipartBodies('file')
            : jsonBodies(
                Object.keys(content['application/json']?.schema?.properties ?? {}),
                ids,
                MAX_JSON_BYTES,
              ),
    });
  };

  const urlFor = (path: string, spec: RequestSpec) => {
    const pairs = [
      ...Object.entries(spec.query.known).flatMap(([key, value]) =>
        (Array.isArray(value) ? value : [value]).map((item) => [key, item] as const),
      ),
      ...Object.entries(spec.query.unknown),
    ].map(([key, value]) => `${encodeLoosely(key)}=${urlPart(value!)}`);
    const query = pairs.join('&').slice(0, 6_000);
    return `${path.replace(/\{(\w+)\}/g, (_, name: string) => urlPart(spec.params[name]!))}${query ? `?${query}` : ''}`;
  };

  it('reads every operation from /openapi.json and every client → server event from the contract', () => {
    expect(operations.length).to.be.greaterThan(30);
    expect(declaredEvents('ClientToServerEvents')).to.include.members(['chat:send', 'system:ping']);
  });

  describe('HTTP operations', () => {
    // One test for all operations: mocha collects tests before the edge runs, and the list comes
    // from the running edge. Each operation is its own property; all failures are reported.
    it('every operation survives malformed requests', async () => {
      const failures: string[] = [];
      const statuses: Record<number, number> = {};
      for (const { method, path, operation } of operations) {
        const documented = Object.keys(operation.responses).filter((status) => status.startsWith('5'));
        try {
          await fc.assert(
            fc.asyncProperty(requests(path, method, operation), async (spec) => {
              const url = urlFor(path, spec);
              const { contentType, body } = bodyFor(spec.body);
              const headers: Record<string, string> = {};
              if (tokens[spec.token]) headers.authorization = `Bearer ${tokens[spec.token]}`;
              if (contentType) headers['content-type'] = contentType;
              const answer = await send(method.toUpperCase(), url, { headers, body });
              statuses[answer.status] = (statuses[answer.status] ?? 0) + 1;
              await expectWellRefused(`${method.toUpperCase()} ${url.slice(0, 200)}`, answer, documented);
            }),
            { seed: SEED, numRuns: RUNS },
          );
        } catch (error) {
          failures.push(`${method.toUpperCase()} ${path}:\n${(error as Error).message}`);
          counts = await rows.snapshot();
        }
        await expectAlive();
      }
      expect(failures, failures.join('\n\n')).to.deep.equal([]);
      // The requests got past authentication into validation, and some were accepted too.
      const seen = `statuses seen: ${JSON.stringify(statuses)}`;
      expect(statuses[400], seen).to.be.greaterThan(operations.length);
      expect((statuses[200] ?? 0) + (statuses[202] ?? 0), seen).to.be.greaterThan(0);
    });
  });

  it('answers a method an operation’s path does not have with a problem', async () => {
    const paths = [...new Set(operations.map(({ path }) => path))];
    for (const path of paths) {
      const declared = new Set(operations.filter((op) => op.path === path).map(({ method }) => method));
      const url = path.replace(/\{(\w+)\}/g, () => ownIds[1]!);
      for (const method of [...HTTP_METHODS, 'propfind'].filter((method) => !declared.has(method))) {
        const answer = await send(method.toUpperCase(), url, {
          headers: { authorization: `Bearer ${tokens.user}` },
        });
        expect(answer.status, `${method.toUpperCase()} ${url}`).to.be.within(400, 499);
        await expectWellRefused(`${method.toUpperCase()} ${url}`, answer, []);
      }
    }
    await expectAlive();
  });

  describe('Socket.IO events', () => {
    let socket: Socket;
    const disconnects: string[] = [];

    before(async () => {
      // The client's default options (long-polling first, then the upgrade), as a browser connects.
      socket = io(baseUrl, { auth: { token: user.accessToken } });
      socket.on('disconnect', (reason) => disconnects.push(reason));
      await new Promise<void>((connected, failed) => {
        socket.once('connect', () => connected());
        socket.once('connect_error', failed);
      });
    });
    after(() => socket?.disconnect());

    const fields = [
      'conversationId',
      'content',
      'clientMessageId',
      'mode',
      'documentIds',
      'messageId',
      'afterSeq',
      'nonce',
    ];
    const payloads = () =>
      fc.oneof(
        fc.constant([]), // no payload at all: the ack is the only argument
        fc.constantFrom([null], [undefined], [0], [''], [true], [[]]),
        fc.tuple(nastyText.filter((text) => !(text instanceof Huge) || text.length <= 20_000)),
        fc.tuple(fc.jsonValue({ maxDepth: 3 })),
        fc.tuple(
          fc.record(Object.fromEntries(fields.map((field) => [field, badValue([...ownIds, ...victimIds])])), {
            requiredKeys: [],
          }),
        ),
        fc.tuple(fc.uint8Array({ maxLength: 100 })),
        fc.tuple(fc.jsonValue({ maxDepth: 1 }), fc.jsonValue({ maxDepth: 1 })), // extra arguments
      );

    /** Every emit is acked with `null` or `{ code, message }` (never internal_error); the socket stays. */
    const everyEmitAcked = async (events: fc.Arbitrary<string>, numRuns: number) => {
      await fc.assert(
        fc.asyncProperty(
          events.filter((name) => !RESERVED_EVENTS.has(name)),
          payloads(),
          async (name, args) => {
            // Huge values become their text here: the socket sends JSON-ish data, not our descriptors.
            const sent = (args as unknown[]).map((arg) => (arg instanceof Huge ? String(arg) : arg));
            let error: unknown;
            try {
              // The timeout only detects a missing ack; nothing asserts how fast an ack comes.
              error = await socket.timeout(5_000).emitWithAck(name, ...sent);
            } catch (timedOut) {
              throw new Error(`${name} ${JSON.stringify(sent).slice(0, 200)}: no ack (${timedOut})`);
            }
            if (error !== null) {
              expect(error, name).to.be.an('object').with.property('code').that.is.a('string');
              expect((error as { code: string }).code, name).not.to.equal('internal_error');
            }
            expect(socket.connected, `${name}: disconnected (${disconnects.join(', ')})`).to.equal(true);
          },
        ),
        // Each failing emit costs the whole ack timeout, so a failure is reported as found, unshrunk.
        { seed: SEED, numRuns, endOnFailure: true },
      );
      expect(disconnects).to.deep.equal([]);
      await expectAlive();
    };

    it('refuses malformed handshake auth with connect_error, never a connection or a crash', async () => {
      const auths = fc.oneof(
        fc.constant(undefined),
        badValue([tokens.expired!, `${tokens.user}\u0000`, `${tokens.user}x`]).map((token) => ({ token })),
        fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }),
        fc.constantFrom<unknown>('token', 1, null, [tokens.user]),
      );
      await fc.assert(
        fc.asyncProperty(auths, async (auth) => {
          const sent =
            auth && typeof auth === 'object' && 'token' in auth && auth.token instanceof Huge
              ? { token: String(auth.token) }
              : auth;
          const client = io(baseUrl, {
            auth: sent as Record<string, unknown>,
            reconnection: false,
            forceNew: true,
          });
          try {
            const outcome = await new Promise<string>((resolve) => {
              client.once('connect', () => resolve('connected'));
              client.once('connect_error', (error) =>
                resolve((error as { data?: { code?: string } }).data?.code ?? 'refused'),
              );
              // A handshake packet the server can't parse closes the connection instead.
              client.io.once('close', () => resolve('closed'));
            });
            expect(outcome, JSON.stringify(sent)).to.be.oneOf([
              'unauthorized',
              'token_expired',
              'refused',
              'closed',
            ]);
          } finally {
            client.disconnect();
          }
        }),
        { seed: SEED, numRuns: RUNS },
      );
      await expectAlive();
    });

    it('acks every malformed emit of every declared event and stays connected', async () => {
      await everyEmitAcked(fc.constantFrom(...declaredEvents('ClientToServerEvents')), RUNS * 4);
    });

    it('acks emits of unknown events and stays connected', async () => {
      const unknown = fc.oneof(
        fc.constantFrom(
          'nope',
          'chat:nope',
          '',
          'toString',
          '__proto__',
          'constructor',
          'chat:send ',
          'CHAT:SEND',
        ),
        fc.string({ maxLength: 20 }),
      );
      const declared = new Set(declaredEvents('ClientToServerEvents'));
      await everyEmitAcked(
        unknown.filter((name) => !declared.has(name)),
        RUNS,
      );
    });
  });

  describe('engine.io transport', () => {
    const handshake = async (): Promise<string> => {
      const response = await fetch(`${baseUrl}/socket.io/?EIO=4&transport=polling`);
      const text = await response.text();
      return JSON.parse(text.slice(1)).sid;
    };

    it('survives bogus sids, garbage bodies, old protocols and wrong transports', async () => {
      const raw = fc.record({
        method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'OPTIONS'),
        eio: fc.constantFrom('4', '3', '2', '5', '', 'x', undefined),
        transport: fc.constantFrom('polling', 'websocket', 'flashsocket', '', 'x', undefined),
        sid: fc.constantFrom('valid', 'bogus', 'empty', 'none'),
        extra: fc.constantFrom('', '&j=0', '&b64=1', '&t=abc', '&sid=twice'),
        body: fc.oneof(
          fc.constant(undefined),
          fc.string({ maxLength: 100 }),
          fc.constantFrom(
            '40',
            '40{"token":1}',
            '42["chat:send"]',
            '4{',
            '1',
            '6',
            '2probe',
            '5',
            '0',
            '\u0000',
            '451-[]',
          ),
          fc.uint8Array({ maxLength: 200 }),
          fc.constant(new Huge(1_100_000, 'x')),
        ),
        contentType: fc.constantFrom(
          undefined,
          'text/plain;charset=UTF-8',
          'application/octet-stream',
          'application/json',
        ),
      });
      await fc.assert(
        fc.asyncProperty(fc.array(raw, { minLength: 1, maxLength: 3 }), async (batch) => {
          const sid = batch.some((request) => request.sid === 'valid') ? await handshake() : undefined;
          // A long-poll GET on a live session waits for data: closing the session (packet "1")
          // answers it, and whichever is still open after that is aborted.
          const aborts = new AbortController();
          const answers = batch.map(async (request) => {
            const longPoll = request.method === 'GET' && request.sid === 'valid';
            const query = [
              request.eio === undefined ? '' : `EIO=${request.eio}`,
              request.transport === undefined ? '' : `transport=${request.transport}`,
              { valid: `sid=${sid}`, bogus: 'sid=AAAAAAAAAAAAAAAAAAAA', empty: 'sid=', none: '' }[
                request.sid
              ],
            ]
              .filter(Boolean)
              .join('&');
            const headers: Record<string, string> = request.contentType
              ? { 'content-type': request.contentType }
              : {};
            const hasBody = request.body !== undefined && !['GET', 'OPTIONS'].includes(request.method);
            try {
              const response = await fetch(`${baseUrl}/socket.io/?${query}${request.extra}`, {
                method: request.method,
                headers,
                body: hasBody
                  ? request.body instanceof Huge
                    ? String(request.body)
                    : request.body
                  : undefined,
                signal: longPoll ? aborts.signal : undefined,
              });
              await response.arrayBuffer();
              return { request, status: response.status };
            } catch (error) {
              if (longPoll && aborts.signal.aborted) return { request, status: 0 };
              // Over maxHttpBufferSize engine.io answers 413 and drops the connection while the
              // client still sends, which the client may see as a reset; the health check below
              // proves the process lived through it.
              if (hasBody && request.body instanceof Huge) return { request, status: 0 };
              throw new Error(
                `no answer to ${request.method} ?${query}: ${(error as { cause?: unknown }).cause ?? error}`,
              );
            }
          });
          const settled = Promise.all(answers);
          if (sid)
            await fetch(`${baseUrl}/socket.io/?EIO=4&transport=polling&sid=${sid}`, {
              method: 'POST',
              body: '1',
            });
          aborts.abort();
          for (const { request, status } of await settled) {
            expect(status, JSON.stringify(request)).to.be.below(500);
          }
          await expectAlive();
        }),
        { seed: SEED, numRuns: RUNS * 2 },
      );
      await expectAlive();
    });
  });
});
