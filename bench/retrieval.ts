/**
 * Retrieval benchmark: document search (src/retrieval/, called the way DocumentRetriever calls
 * it) over a synthetic multi-tenant corpus in a throwaway Postgres database built by the
 * migrations. For a big tenant (own IVFFlat index) and a small one (exact search): hybrid and per-leg
 * latency, recall@10 of the vector leg against exact search with the same filter, on- and
 * off-topic; what loading and indexing cost; the alternatives the design was chosen against
 * (`--compare`); the text leg at that scale; other users' search latency while a 10 000-chunk
 * document and the big tenant (every chunk) are deleted. Prints figures, asserts nothing.
 *
 *   node bench/retrieval.ts [--chunks 100000] [--big 0.1] [--small 1000] [--users N]
 *     [--queries 200] [--offtopic 0.3] [--topk 6] [--ef 40,100,200] [--clusters 200] [--rank 16]
 *     [--noise 0.35] [--probes 80,160,320]
 *     [--compare hnsw,efc64,m32,halfvec,binary,global,partitions] [--no-deletes] [--build-workers N]
 *     [--seed 42] [--keep]
 *
 * Data (deterministic for a seed): tenant 0 (big) owns `--big` of the chunks in documents of
 * 10 000 chunks; tenant 1 (small) owns `--small` chunks in 2 documents; `--users` − 2 others
 * (default one per 5 000 chunks) share the rest, sized log-normally (some pass the own-index
 * threshold too), in documents of ~500 chunks. Vectors are 384-d, unit length, from a Gaussian
 * mixture of `--clusters` components: centroid + 0.8 × a point of a random `--rank`-dimensional
 * subspace of its own + isotropic noise of norm `--noise`, normalised. Each document covers 1–4
 * components (topics). Text: 140–220 words a chunk from a 30 000-word Zipf vocabulary with 8 % of
 * the words from the topic's own 24 terms. A query is a fresh point of a topic of the tenant's
 * documents (or, for `--offtopic` of them, of a topic only other users cover) and a question
 * naming two of the topic's terms and one mid-frequency word.
 *
 * Talks to 127.0.0.1 only; creates and drops its own database (`--keep` leaves it, for EXPLAIN
 * work, and prints its URL: drop it yourself).
 */
import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import type { SqlEntityManager } from '@mikro-orm/sql';
import pg from 'pg';
import { loadConfig } from '../src/config.ts';
import { EMBEDDING_DIMENSIONS, ginSearchIndex } from '../src/db/columns.ts';
import { type Orm, openDatabase } from '../src/db/orm.ts';
import { deleteChunksInBatches, deleteUserChunks } from '../src/documents/chunkDeletion.ts';
import type { Embedder } from '../src/embeddings/Embedder.ts';
import { createLogger } from '../src/logger.ts';
import { DocumentRetriever } from '../src/retrieval/DocumentRetriever.ts';
import { documentSearchScope } from '../src/retrieval/documentScope.ts';
import { hybridSearch, nearestByVector, type SearchScope } from '../src/retrieval/hybridSearch.ts';
import {
  OWN_INDEX_MIN_CHUNKS,
  OWN_INDEX_PROBES,
  ownIndexDefinition,
  ownIndexLists,
  ownIndexName,
} from '../src/retrieval/ownVectorIndex.ts';
import { createTestDatabase, dropTestDatabases, TEST_DATABASE_ADMIN_URL } from '../test/support/services.ts';
import {
  Cleanups,
  integerFlag,
  loadAverage,
  machineFacts,
  nproc,
  numberFlag,
  requireLocal,
} from './support/cleanup.ts';
import { BinaryCopyWriter, copyIn } from './support/copyIn.ts';
import { prose, Random, Vocabulary } from './support/corpus.ts';
import { cpuDelta, cpuOfProcessesMatching, machineCpu } from './support/proc.ts';
import { fixed, percentile, sorted, table } from './support/stats.ts';

const TARGETS = { hybridP95Ms: 20, recall: 0.95, duringDeleteP95Ms: 50 };
const DIMENSIONS = EMBEDDING_DIMENSIONS;
const VOCABULARY_SIZE = 30_000;
const TOPIC_TERMS = 24;
const TOPIC_SHARE = 0.08;
const SUBSPACE_SCALE = 0.8;
const WARM_UP_QUERIES = 20;
const BIG_DOCUMENT_CHUNKS = 10_000;
const OTHER_DOCUMENT_CHUNKS = 500;
/** DocumentRetriever's default RETRIEVAL_MIN_SIMILARITY, for context in the report. */
const MIN_SIMILARITY = loadConfig({}).retrieval.minSimilarity;

const out = (text = '') => process.stdout.write(`${text}\n`);
const progress = (text: string) =>
  process.stderr.write(`  · ${new Date().toISOString().slice(11, 19)} ${text}\n`);

// ---- options ----

const usage =
  'node bench/retrieval.ts [--chunks 100000] [--big 0.1] [--small 1000] [--users N] [--queries 200] [--offtopic 0.3] [--topk 6] [--ef 40,100,200] [--clusters 200] [--rank 16] [--noise 0.35] [--probes 80,160,320] [--compare hnsw,efc64,m32,halfvec,binary,global,partitions] [--no-deletes] [--build-workers N] [--seed 42] [--keep]';
const { values: flags } = parseArgs({
  options: {
    chunks: { type: 'string', default: '100000' },
    big: { type: 'string', default: '0.1' },
    small: { type: 'string', default: '1000' },
    users: { type: 'string' },
    queries: { type: 'string', default: '200' },
    offtopic: { type: 'string', default: '0.3' },
    topk: { type: 'string', default: '6' },
    ef: { type: 'string', default: '40,100,200' },
    clusters: { type: 'string', default: '200' },
    rank: { type: 'string', default: '16' },
    noise: { type: 'string', default: '0.35' },
    probes: {
      type: 'string',
      default: `${OWN_INDEX_PROBES / 2},${OWN_INDEX_PROBES},${OWN_INDEX_PROBES * 2}`,
    },
    compare: { type: 'string', default: 'hnsw' },
    'no-deletes': { type: 'boolean', default: false },
    'build-workers': { type: 'string', default: String(Math.max(0, Number(nproc()) - 1)) },
    seed: { type: 'string', default: '42' },
    keep: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
  strict: true,
});
if (flags.help) {
  out(usage);
  process.exit(0);
}
const chunkCount = integerFlag('chunks', flags.chunks, 10_000, 10_000_000);
const options = {
  chunks: chunkCount,
  big: numberFlag('big', flags.big, 0.01, 0.5),
  small: integerFlag('small', flags.small, 10, 1_000_000),
  users: integerFlag(
    'users',
    flags.users ?? String(Math.max(20, Math.round(chunkCount / 5_000))),
    3,
    100_000,
  ),
  queries: integerFlag('queries', flags.queries, 10, 100_000),
  offTopic: numberFlag('offtopic', flags.offtopic, 0, 1),
  topK: integerFlag('topk', flags.topk, 1, 50),
  efs: flags.ef.split(',').map((part) => integerFlag('ef', part.trim(), 1, 1_000)),
  probes: flags.probes.split(',').map((part) => integerFlag('probes', part.trim(), 1, 32_768)),
  clusters: integerFlag('clusters', flags.clusters, 1, 100_000),
  rank: integerFlag('rank', flags.rank, 0, DIMENSIONS),
  noise: numberFlag('noise', flags.noise, 0, 10),
  compare: new Set(
    flags.compare
      .split(',')
      .map((part) => part.trim())
      .filter(Boolean),
  ),
  deletes: !flags['no-deletes'],
  buildWorkers: integerFlag('build-workers', flags['build-workers'], 0, 64),
  seed: integerFlag('seed', flags.seed, 0, 2 ** 31),
};
for (const name of options.compare)
  if (!['hnsw', 'efc64', 'm32', 'halfvec', 'binary', 'global', 'partitions'].includes(name)) {
    console.error(
      `--compare: unknown alternative "${name}" (hnsw, efc64, m32, halfvec, binary, global, partitions)`,
    );
    process.exit(2);
  }
requireLocal({ TEST_DATABASE_URL: TEST_DATABASE_ADMIN_URL });
const cleanups = new Cleanups('retrieval');

// ---- the synthetic corpus ----

interface DocumentPlan {
  id: string;
  tenant: number;
  chunks: number;
  topics: number[];
  /** Cumulative topic weights, for picking a chunk's topic. */
  topicCdf: number[];
}

interface Tenant {
  index: number;
  id: string;
  chunks: number;
  documents: DocumentPlan[];
  topics: Set<number>;
}

const random = new Random(options.seed);
const vocabulary = new Vocabulary(VOCABULARY_SIZE, random);
const centroids: Float32Array[] = [];
const bases: Float32Array[] = [];
const topicTerms: string[][] = [];
for (let cluster = 0; cluster < options.clusters; cluster++) {
  centroids.push(normalise(gaussianVector(random, 1)));
  const basis = new Float32Array(options.rank * DIMENSIONS);
  for (let index = 0; index < basis.length; index++) basis[index] = random.gaussian() / Math.sqrt(DIMENSIONS);
  bases.push(basis);
  topicTerms.push(vocabulary.distinct(random, TOPIC_TERMS, 150, 12_000));
}

function gaussianVector(source: Random, norm: number): Float32Array {
  const vector = new Float32Array(DIMENSIONS);
  const scale = norm / Math.sqrt(DIMENSIONS);
  for (let index = 0; index < DIMENSIONS; index++) vector[index] = source.gaussian() * scale;
  return vector;
}

function normalise(vector: Float32Array): Float32Array {
  let sum = 0;
  for (const value of vector) sum += value * value;
  const inverse = 1 / Math.sqrt(sum);
  for (let index = 0; index < vector.length; index++) vector[index]! *= inverse;
  return vector;
}

/** A point of mixture component `cluster`. */
function sampleVector(source: Random, cluster: number): Float32Array {
  const vector = Float32Array.from(centroids[cluster]!);
  if (options.rank > 0) {
    const basis = bases[cluster]!;
    const scale = SUBSPACE_SCALE / Math.sqrt(options.rank);
    for (let direction = 0; direction < options.rank; direction++) {
      const z = source.gaussian() * scale;
      const offset = direction * DIMENSIONS;
      for (let index = 0; index < DIMENSIONS; index++) vector[index]! += z * basis[offset + index]!;
    }
  }
  const noise = gaussianVector(source, options.rank > 0 ? options.noise : 1);
  for (let index = 0; index < DIMENSIONS; index++) vector[index]! += noise[index]!;
  return normalise(vector);
}

function planCorpus(): { tenants: Tenant[]; documents: DocumentPlan[] } {
  const bigChunks = Math.round(options.big * options.chunks);
  // Tenant 2 holds two 10 000-chunk documents, deleted while others search (one in batches, one at once).
  const deleterChunks = 2 * BIG_DOCUMENT_CHUNKS;
  const rest = options.chunks - bigChunks - options.small - deleterChunks;
  if (rest < options.users - 3) throw new Error('--big and --small leave too few chunks for the other users');
  const others = options.users - 3;
  const weights = Array.from({ length: others }, () => Math.exp(1.0 * random.gaussian()));
  const total = weights.reduce((sum, weight) => sum + weight, 0);
  const sizes = [
    bigChunks,
    options.small,
    deleterChunks,
    ...weights.map((weight) => Math.max(1, Math.floor((rest * weight) / total))),
  ];
  sizes[3]! += options.chunks - sizes.reduce((sum, size) => sum + size, 0);
  const tenants: Tenant[] = sizes.map((chunks, index) => ({
    index,
    id: random.uuid(),
    chunks,
    documents: [],
    topics: new Set(),
  }));
  const documents: DocumentPlan[] = [];
  for (const tenant of tenants) {
    const perDocument =
      tenant.index === 0 || tenant.index === 2
        ? BIG_DOCUMENT_CHUNKS
        : tenant.index === 1
          ? Math.ceil(tenant.chunks / 2)
          : OTHER_DOCUMENT_CHUNKS;
    const count = Math.max(1, Math.round(tenant.chunks / perDocument));
    let assigned = 0;
    for (let index = 0; index < count; index++) {
      const chunks = index === count - 1 ? tenant.chunks - assigned : Math.floor(tenant.chunks / count);
      assigned += chunks;
      const topics = Array.from({ length: random.between(1, 4) }, () => random.int(options.clusters));
      const topicWeights = topics.map(() => 0.3 + random.next());
      const sum = topicWeights.reduce((total, weight) => total + weight, 0);
      let running = 0;
      const topicCdf = topicWeights.map((weight) => {
        running += weight / sum;
        return running;
      });
      const document = { id: random.uuid(), tenant: tenant.index, chunks, topics, topicCdf };
      for (const topic of topics) tenant.topics.add(topic);
      tenant.documents.push(document);
      documents.push(document);
    }
  }
  // Documents arrive one after another from many users: shuffle the order they are loaded in.
  for (let index = documents.length - 1; index > 0; index--) {
    const other = random.int(index + 1);
    [documents[index], documents[other]] = [documents[other]!, documents[index]!];
  }
  return { tenants, documents };
}

/** The binary COPY stream of every chunk, document by document. */
function* chunkRows(documents: DocumentPlan[], tenants: Tenant[]): Generator<Buffer> {
  const writer = new BinaryCopyWriter();
  for (const document of documents) {
    const userId = tenants[document.tenant]!.id;
    for (let ordinal = 0; ordinal < document.chunks; ordinal++) {
      const u = random.next();
      const topic =
        document.topics[document.topicCdf.findIndex((bound) => u <= bound)] ?? document.topics[0]!;
      const vector = sampleVector(random, topic);
      const words = random.between(140, 220);
      const content = prose(random, vocabulary, words, {
        topicWords: topicTerms[topic],
        topicShare: TOPIC_SHARE,
      }).join(' ');
      writer.tuple(8);
      writer.uuid(random.uuid());
      writer.uuid(document.id);
      writer.uuid(userId);
      writer.int4(ordinal);
      writer.int4(1 + Math.floor(ordinal / 3));
      writer.text(content);
      writer.int4(Math.round(words * 1.35));
      writer.vector(vector);
      const chunk = writer.take();
      if (chunk) yield chunk;
    }
  }
  yield writer.finish();
}

// ---- queries ----

interface Query {
  index: number;
  onTopic: boolean;
  vector: number[];
  question: string;
}

function makeQueries(tenant: Tenant, allTopics: Set<number>): Query[] {
  const own = [...tenant.topics];
  // Off-topic: near other users' chunks (a topic only they cover), so still near the data.
  const foreign = [...allTopics].filter((topic) => !tenant.topics.has(topic));
  const queries: Query[] = [];
  for (let index = 0; index < options.queries; index++) {
    const onTopic = foreign.length === 0 || random.next() >= options.offTopic;
    const topic = onTopic ? random.pick(own) : random.pick(foreign);
    const terms = topicTerms[topic]!;
    const first = random.pick(terms);
    let second = random.pick(terms);
    while (second === first) second = random.pick(terms);
    const common = vocabulary.words[random.between(60, 2_000)]!;
    queries.push({
      index,
      onTopic,
      vector: Array.from(sampleVector(random, topic)),
      question: `What do my notes say about ${first}, ${common} and ${second}?`,
    });
  }
  return queries;
}

// ---- measuring ----

/** Hands DocumentRetriever the query's vector instead of running a model. */
class FixedEmbedder implements Embedder {
  readonly model = 'fixed-vectors';
  vector: number[] = [];
  async embed(texts: string[]) {
    return texts.map(() => this.vector);
  }
  countTokens(text: string) {
    return text.split(/\s+/).length;
  }
  async ready() {
    return { dimensions: DIMENSIONS };
  }
  async close() {}
}

async function timed<T>(work: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const startedAt = performance.now();
  const value = await work();
  return { ms: performance.now() - startedAt, value };
}

interface Sample {
  onTopic: boolean;
  value: number;
}
const values = (samples: Sample[], subset: 'all' | 'on' | 'off') =>
  samples
    .filter((sample) => subset === 'all' || sample.onTopic === (subset === 'on'))
    .map((sample) => sample.value);
const mean = (list: number[]) =>
  list.length ? list.reduce((sum, value) => sum + value, 0) / list.length : NaN;
const overlap = (found: string[], truth: string[]) => {
  const wanted = new Set(truth);
  return found.slice(0, truth.length).filter((id) => wanted.has(id)).length / Math.max(1, truth.length);
};
const ms = (value: number) => fixed(value, 1);
const pct = (list: number[], q: number) => (list.length ? percentile(sorted(list), q) : NaN);
const latencyCells = (list: number[]) => [
  String(list.length),
  ms(pct(list, 50)),
  ms(pct(list, 95)),
  ms(pct(list, 99)),
  ms(list.length ? Math.max(...list) : NaN),
];
const subsets = ['all', 'on', 'off'] as const;
const subsetName = { all: 'all', on: 'on-topic', off: 'off-topic' };

// ---- EXPLAIN ----

/** Statements MikroORM sends while `work` runs, parameters inlined as it sends them (onQuery hook). */
async function captureSql(orm: Orm, work: () => Promise<unknown>): Promise<string[]> {
  const platform = orm.em.getPlatform();
  const captured: string[] = [];
  orm.config.set('onQuery', (sql: string, params: readonly unknown[]) => {
    captured.push(platform.formatQuery(sql, params as unknown[]));
    return sql;
  });
  try {
    await work();
  } finally {
    orm.config.set('onQuery', (sql: string) => sql);
  }
  return captured;
}

/** Replays the captured `set` statements in a transaction, then EXPLAIN ANALYZEs the last select. */
async function explain(client: pg.Client, statements: string[]): Promise<string[]> {
  const settings = statements.filter((statement) => /^\s*(set\b|select set_config\()/i.test(statement));
  const select = statements.findLast((statement) => /^\s*(with|select)\b/i.test(statement));
  if (!select) throw new Error(`no select among the captured statements: ${statements.join('; ')}`);
  await client.query('begin');
  try {
    for (const statement of settings) await client.query(statement);
    const result = await client.query<{ 'QUERY PLAN': string }>(`explain (analyze, buffers) ${select}`);
    return [
      ...settings.map((statement) => `${statement.trim()};`),
      ...result.rows.map((row) => row['QUERY PLAN']),
    ];
  } finally {
    await client.query('rollback');
  }
}

// ---- main ----

async function main(): Promise<void> {
  const startedAt = performance.now();
  const loadAtStart = loadAverage();
  const { tenants, documents } = planCorpus();
  const [big, small] = [tenants[0]!, tenants[1]!];
  progress(
    `retrieval benchmark: ${options.chunks} chunks, ${options.users} users, ${documents.length} documents; big tenant ${big.chunks}, small ${small.chunks}; ${options.queries} queries each`,
  );
  const databaseUrl = await createTestDatabase('retrieval');
  if (!flags.keep) cleanups.add('database', () => dropTestDatabases());
  const databaseName = new URL(databaseUrl).pathname.slice(1);
  const logger = createLogger('silent');
  const orm = await openDatabase(loadConfig({ DATABASE_URL: databaseUrl, DATABASE_POOL_MAX: '10' }), logger);
  cleanups.add('orm', () => orm.close(true));
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  cleanups.add('pg client', () => client.end());
  const setting = async (name: string) =>
    (await client.query<{ value: string }>(`select current_setting($1) as value`, [name])).rows[0]!.value;
  const server = {
    version: await setting('server_version'),
    vector: (
      await client.query<{ v: string }>(`select extversion as v from pg_extension where extname = 'vector'`)
    ).rows[0]?.v,
    sharedBuffers: await setting('shared_buffers'),
    workMem: await setting('work_mem'),
    jit: await setting('jit'),
  };
  const cores = Number(nproc());
  const sizeOf = async (relation: string) =>
    (
      await client.query<{ size: string }>(`select pg_size_pretty(pg_relation_size($1::regclass)) as size`, [
        relation,
      ])
    ).rows[0]!.size;

  // ---- load ----
  const gin = ginSearchIndex('document_chunks', 'document_chunks_search_gin');
  await client.query(`drop index ${gin.name}`);
  const loadRows: string[][] = [];
  const step = async (label: string, work: () => Promise<unknown>, rows?: number) => {
    progress(`${label}…`);
    const { ms: elapsed } = await timed(work);
    loadRows.push([label, fixed(elapsed / 1_000, 1), rows ? fixed(rows / (elapsed / 1_000), 0) : '']);
    return elapsed;
  };
  await step('users and documents', async () => {
    for (const tenant of tenants)
      await client.query(`insert into users (id, email, password_hash) values ($1, $2, 'not-a-hash')`, [
        tenant.id,
        `bench-${tenant.index}@example.com`,
      ]);
    for (const document of documents)
      await client.query(
        `insert into documents (id, user_id, filename, mime, size, sha256, status, progress, chunk_count, page_count)
         values ($1, $2, $3, 'application/pdf', $4, $5, 'ready', 1, $6, $7)`,
        [
          document.id,
          tenants[document.tenant]!.id,
          `document-${document.id.slice(0, 8)}.pdf`,
          document.chunks * 1_500,
          createHash('sha256').update(document.id).digest('hex'),
          document.chunks,
          Math.ceil(document.chunks / 3),
        ],
      );
  });
  let copied = 0;
  await step(
    'generate + COPY chunks (binary, one stream; search_vector generated by the server)',
    async () => {
      copied = await copyIn(
        client,
        `copy document_chunks (id, document_id, user_id, ordinal, page, content, token_count, embedding)
           from stdin (format binary)`,
        chunkRows(documents, tenants),
      );
    },
    options.chunks,
  );
  if (copied !== options.chunks) throw new Error(`COPY loaded ${copied} rows, expected ${options.chunks}`);
  await step('vacuum analyze', () => client.query('vacuum analyze document_chunks'));
  await client.query(`set maintenance_work_mem = '2GB'`);
  await client.query(`set max_parallel_maintenance_workers = ${options.buildWorkers}`);
  await step(`GIN index (${gin.name})`, () => client.query(gin.expression));

  // ---- alternatives, each measured on the big tenant (and the small one where it applies) ----
  const allTopics = new Set(tenants.flatMap((tenant) => [...tenant.topics]));
  const bigQueries = makeQueries(big, allTopics);
  const smallQueries = makeQueries(small, allTopics);
  const bigScope = await documentSearchScope(orm.em.fork(), big.id, null);
  const smallScope = await documentSearchScope(orm.em.fork(), small.id, null);
  const exactOf = (scope: SearchScope): SearchScope => ({ ...scope, vectorPlan: 'exact' });
  const indexOf = (scope: SearchScope): SearchScope => ({ ...scope, vectorPlan: 'index' });
  const candidates = Math.max(options.topK * 4, 20);

  progress('exact search (truth for recall), big and small tenant');
  const truthOf = async (scope: SearchScope, queries: Query[]) => {
    const ids: string[][] = [];
    const times: Sample[] = [];
    const nearest: Sample[] = [];
    const gaps: Sample[] = [];
    for (const query of queries) {
      const result = await timed(() => nearestByVector(orm.em.fork(), exactOf(scope), query.vector, 11));
      ids.push(result.value.slice(0, 10).map((row) => row.id));
      times.push({ onTopic: query.onTopic, value: result.ms });
      const similarities = result.value.map((row) => row.similarity);
      nearest.push({ onTopic: query.onTopic, value: similarities[0] ?? NaN });
      gaps.push({ onTopic: query.onTopic, value: (similarities[0] ?? NaN) - (similarities[10] ?? NaN) });
    }
    return { ids, times, nearest, gaps };
  };
  const bigTruth = await truthOf(bigScope, bigQueries);
  const smallTruth = await truthOf(smallScope, smallQueries);

  /** A vector query (returning ids, best first) at each ef_search: recall against `truth` and latency. */
  type VectorQuery = (query: Query, ef: number) => Promise<string[]>;
  const recallPass = async (queries: Query[], truth: string[][], run: VectorQuery, efs = options.efs) => {
    for (const query of queries.slice(0, WARM_UP_QUERIES)) await run(query, efs[0]!);
    const rows = new Map<number, { recall: Sample[]; ms: Sample[] }>();
    for (const ef of efs) {
      const recall: Sample[] = [];
      const times: Sample[] = [];
      for (const query of queries) {
        const result = await timed(() => run(query, ef));
        recall.push({ onTopic: query.onTopic, value: overlap(result.value, truth[query.index]!) });
        times.push({ onTopic: query.onTopic, value: result.ms });
      }
      rows.set(ef, { recall, ms: times });
    }
    return rows;
  };
  const alternatives: {
    label: string;
    /** What the rows' numbers are: ef_search (HNSW, the default) or probes (IVFFlat). */
    knob?: 'ef_search' | 'probes';
    build?: string;
    size?: string;
    rows: Map<number, { recall: Sample[]; ms: Sample[] }>;
  }[] = [];
  const viaLeg =
    (scope: SearchScope, limit: number): VectorQuery =>
    async (query, ef) =>
      (await nearestByVector(orm.em.fork(), scope, query.vector, limit, ef)).map((row) => row.id);
  /** A rewritten vector leg for the quantised alternatives: `order by` over the index, then full precision. */
  const reranked =
    (orderBy: (literal: string) => string, oversample: number): VectorQuery =>
    async (query, ef) =>
      orm.em.fork().transactional(async (tx) => {
        const sql = tx as SqlEntityManager;
        const literal = `[${query.vector.join(',')}]`;
        await sql.execute(`set local hnsw.iterative_scan = relaxed_order`, [], 'run');
        await sql.execute(`set local hnsw.ef_search = ${Math.max(ef, oversample)}`, [], 'run');
        // The planner prefers an exact scan for these expression indexes; the comparison is of the index.
        await sql.execute(`set local enable_seqscan = off`, [], 'run');
        await sql.execute(`set local enable_bitmapscan = off`, [], 'run');
        const rows: { id: string }[] = await sql.execute(
          `with candidates as materialized (
             select t.id, t.embedding from document_chunks t
              where ${bigScope.where} order by ${orderBy(literal)} limit ${oversample}
           )
           select id from candidates order by embedding <=> ?::vector, id limit 10`,
          [...bigScope.params, literal],
        );
        return rows.map((row) => row.id);
      });
  const buildIndex = async (label: string, ddl: string, name: string) => {
    const elapsed = await step(label, () => client.query(ddl));
    await client.query(`analyze document_chunks`);
    return { build: fixed(elapsed / 1_000, 1), size: await sizeOf(name) };
  };

  if (options.compare.has('global')) {
    const built = await buildIndex(
      'alternative: one HNSW index over every user (m 16, ef_construction 64)',
      `create index document_chunks_embedding_all on document_chunks using hnsw (embedding vector_cosine_ops) with (m = 16, ef_construction = 64)`,
      'document_chunks_embedding_all',
    );
    progress('alternative: shared index, big and small tenant, user filter + iterative scan');
    alternatives.push({
      label: `shared index, big tenant, user filter + iterative scan`,
      ...built,
      rows: await recallPass(bigQueries, bigTruth.ids, viaLeg(indexOf(bigScope), 10)),
    });
    alternatives.push({
      label: `shared index, small tenant, user filter + iterative scan`,
      rows: await recallPass(smallQueries, smallTruth.ids, viaLeg(indexOf(smallScope), 10)),
    });
    await client.query(`drop index document_chunks_embedding_all`);
  }
  if (options.compare.has('partitions')) {
    // Hash partitions by user, an HNSW index each (a narrow copy: id, user, document, vector).
    const partitions = 16;
    const elapsed = await step(
      `alternative: ${partitions} hash partitions by user, an HNSW index each (m 16, ef_construction 128)`,
      async () => {
        await client.query(
          `create table chunks_by_user (id uuid not null, user_id uuid not null, document_id uuid not null,
             embedding vector(${DIMENSIONS}) not null) partition by hash (user_id)`,
        );
        for (let index = 0; index < partitions; index++)
          await client.query(
            `create table chunks_by_user_${index} partition of chunks_by_user for values with (modulus ${partitions}, remainder ${index})`,
          );
        await client.query(
          `insert into chunks_by_user select id, user_id, document_id, embedding from document_chunks`,
        );
        await client.query(
          `create index chunks_by_user_embedding on chunks_by_user using hnsw (embedding vector_cosine_ops) with (m = 16, ef_construction = 128)`,
        );
        await client.query('analyze chunks_by_user');
      },
    );
    const partitionOf = async (userId: string) =>
      (
        await client.query<{ name: string; rows: number }>(
          `select tableoid::regclass::text as name, (select count(*)::int from chunks_by_user c where c.tableoid = t.tableoid) as rows
             from chunks_by_user t where user_id = $1 limit 1`,
          [userId],
        )
      ).rows[0]!;
    const viaPartition =
      (userId: string): VectorQuery =>
      async (query, ef) =>
        orm.em.fork().transactional(async (tx) => {
          const sql = tx as SqlEntityManager;
          await sql.execute(
            `select set_config('hnsw.iterative_scan', 'relaxed_order', true), set_config('hnsw.ef_search', ?, true),
                    set_config('enable_sort', 'off', true), set_config('jit', 'off', true)`,
            [String(ef)],
          );
          const literal = `[${query.vector.join(',')}]`;
          const rows: { id: string }[] = await sql.execute(
            `with nearest as materialized (
               select t.id, t.embedding <=> ?::vector as distance from chunks_by_user t
                where t.user_id = ? and not exists (select 1 from documents d where d.id = t.document_id and d.status <> 'ready')
                order by t.embedding <=> ?::vector limit 10
             )
             select id from nearest order by distance, id`,
            [literal, userId, literal],
          );
          return rows.map((row) => row.id);
        });
    for (const [name, tenant, queries, truth] of [
      ['big', big, bigQueries, bigTruth],
      ['small', small, smallQueries, smallTruth],
    ] as const) {
      const partition = await partitionOf(tenant.id);
      progress(`alternative: hash partitions, ${name} tenant`);
      alternatives.push({
        label: `hash partitions, ${name} tenant (${tenant.chunks} of its partition's ${partition.rows} rows)`,
        ...(name === 'big' ? { build: fixed(elapsed / 1_000, 1) } : {}),
        rows: await recallPass(queries, truth.ids, viaPartition(tenant.id)),
      });
    }
    await client.query('drop table chunks_by_user');
  }
  const bigIndex = ownIndexName(big.id);
  /** The big tenant's own index as an HNSW graph (the design before IVFFlat), with these build parameters. */
  const ownHnsw = async (m: number, efConstruction: number) => {
    const built = await buildIndex(
      `alternative: own HNSW index, m ${m}, ef_construction ${efConstruction}`,
      `create index "${bigIndex}" on document_chunks using hnsw (embedding vector_cosine_ops)
         with (m = ${m}, ef_construction = ${efConstruction}) where user_id = '${big.id}'::uuid`,
      bigIndex,
    );
    progress(`alternative: own HNSW index, m ${m}, ef_construction ${efConstruction}`);
    alternatives.push({
      label: `own HNSW index, m ${m}, ef_construction ${efConstruction}`,
      ...built,
      rows: await recallPass(
        bigQueries,
        bigTruth.ids,
        viaLeg({ ...indexOf(bigScope), probes: undefined }, 10),
      ),
    });
    await client.query(`drop index "${bigIndex}"`);
  };
  if (options.compare.has('hnsw')) await ownHnsw(16, 128);
  if (options.compare.has('efc64')) await ownHnsw(16, 64);
  if (options.compare.has('m32')) await ownHnsw(32, 128);
  if (options.compare.has('halfvec')) {
    const name = `${bigIndex.slice(0, 40)}_half`;
    const built = await buildIndex(
      'alternative: own halfvec index (m 16, ef_construction 128)',
      `create index "${name}" on document_chunks using hnsw ((embedding::halfvec(${DIMENSIONS})) halfvec_cosine_ops)
         with (m = 16, ef_construction = 128) where user_id = '${big.id}'::uuid`,
      name,
    );
    progress('alternative: halfvec index, 40 candidates re-ranked at full precision');
    alternatives.push({
      label: 'own halfvec index, 40 candidates re-ranked by full vectors',
      ...built,
      rows: await recallPass(
        bigQueries,
        bigTruth.ids,
        reranked(
          (literal) => `t.embedding::halfvec(${DIMENSIONS}) <=> '${literal}'::halfvec(${DIMENSIONS})`,
          40,
        ),
      ),
    });
    await client.query(`drop index "${name}"`);
  }
  if (options.compare.has('binary')) {
    const name = `${bigIndex.slice(0, 40)}_bits`;
    const built = await buildIndex(
      'alternative: own binary-quantised index (m 16, ef_construction 128)',
      `create index "${name}" on document_chunks using hnsw ((binary_quantize(embedding)::bit(${DIMENSIONS})) bit_hamming_ops)
         with (m = 16, ef_construction = 128) where user_id = '${big.id}'::uuid`,
      name,
    );
    progress('alternative: binary-quantised index, 200 candidates re-ranked at full precision');
    alternatives.push({
      label: 'own binary index, 200 candidates re-ranked by full vectors',
      ...built,
      rows: await recallPass(
        bigQueries,
        bigTruth.ids,
        reranked(
          (literal) =>
            `binary_quantize(t.embedding)::bit(${DIMENSIONS}) <~> binary_quantize('${literal}'::vector)::bit(${DIMENSIONS})`,
          200,
        ),
      ),
    });
    await client.query(`drop index "${name}"`);
  }

  // ---- the design: own index for every user from OWN_INDEX_MIN_CHUNKS ----
  const ownIndexUsers = tenants.filter((tenant) => tenant.chunks >= OWN_INDEX_MIN_CHUNKS);
  const bigBuildMs = await step(
    `own IVFFlat index of the big tenant (${big.chunks} chunks; ${ownIndexLists(big.chunks)} lists)`,
    () => client.query(ownIndexDefinition(big.id, big.chunks, { concurrently: false })),
    big.chunks,
  );
  const others = ownIndexUsers.filter((tenant) => tenant !== big);
  const othersChunks = others.reduce((sum, tenant) => sum + tenant.chunks, 0);
  if (others.length > 0)
    await step(
      `own IVFFlat indexes of the ${others.length} other users with ≥ ${OWN_INDEX_MIN_CHUNKS} chunks (${othersChunks} chunks)`,
      async () => {
        for (const tenant of others)
          await client.query(ownIndexDefinition(tenant.id, tenant.chunks, { concurrently: false }));
      },
      othersChunks,
    );
  await client.query('reset maintenance_work_mem');
  await client.query('reset max_parallel_maintenance_workers');
  await step('analyze', () => client.query('analyze'));
  const sizes = (
    await client.query<{ name: string; size: string }>(
      `select name, pg_size_pretty(size) as size from (values
         ('document_chunks heap', pg_relation_size('document_chunks')),
         ('document_chunks heap + toast', pg_table_size('document_chunks')),
         ('${gin.name} (GIN)', pg_relation_size('${gin.name}')),
         ('big tenant''s own IVFFlat index', pg_relation_size('${bigIndex}')),
         ('all own IVFFlat indexes (${ownIndexUsers.length})', (select coalesce(sum(pg_relation_size(indexrelid)), 0) from pg_index i join pg_class c on c.oid = i.indexrelid
             where i.indrelid = 'document_chunks'::regclass and c.relname like 'document\\_chunks\\_embedding\\_u%')),
         ('all indexes of document_chunks', pg_indexes_size('document_chunks'))) as s(name, size)`,
    )
  ).rows;

  progress('the design, big tenant: own IVFFlat index at each probes (limit 10)');
  alternatives.push({
    label: `own IVFFlat index, ${ownIndexLists(big.chunks)} lists (chosen; probes ${OWN_INDEX_PROBES})`,
    knob: 'probes',
    build: fixed(bigBuildMs / 1_000, 1),
    size: await sizeOf(bigIndex),
    rows: await recallPass(
      bigQueries,
      bigTruth.ids,
      async (query, probes) =>
        (await nearestByVector(orm.em.fork(), { ...bigScope, probes }, query.vector, 10)).map(
          (row) => row.id,
        ),
      options.probes,
    ),
  });

  // ---- latency of the code path, both tenants ----
  const embedder = new FixedEmbedder();
  const retriever = new DocumentRetriever(embedder, MIN_SIMILARITY);
  type Leg = 'retrieve' | 'hybrid' | 'vector' | 'text';
  const legs: Leg[] = ['retrieve', 'hybrid', 'vector', 'text'];
  const latencyPass = async (tenant: Tenant, queries: Query[]) => {
    const scope = await documentSearchScope(orm.em.fork(), tenant.id, null);
    const run = async (query: Query) => {
      embedder.vector = query.vector;
      const results = {} as Record<Leg, { ms: number; value: unknown[] }>;
      for (const leg of legs) {
        results[leg] = await timed(
          (): Promise<unknown[]> =>
            leg === 'retrieve'
              ? retriever.retrieve(orm.em.fork(), {
                  userId: tenant.id,
                  documentIds: null,
                  question: query.question,
                  topK: options.topK,
                })
              : leg === 'hybrid'
                ? hybridSearch(orm.em.fork(), scope, {
                    vector: query.vector,
                    text: query.question,
                    words: 'any',
                    minCoverage: 0.5,
                    limit: options.topK,
                  })
                : leg === 'vector'
                  ? nearestByVector(orm.em.fork(), scope, query.vector, candidates)
                  : hybridSearch(orm.em.fork(), scope, {
                      text: query.question,
                      words: 'any',
                      minCoverage: 0.5,
                      limit: options.topK,
                    }),
        );
      }
      return results;
    };
    progress(
      `latency, tenant ${tenant.index} (${tenant.chunks} chunks): ${WARM_UP_QUERIES} warm-up queries, then ${queries.length}`,
    );
    for (const query of queries.slice(0, WARM_UP_QUERIES)) await run(query);
    const samples = Object.fromEntries(legs.map((leg) => [leg, [] as Sample[]])) as Record<Leg, Sample[]>;
    const legIds: string[][] = [];
    const counts: Record<Leg, number[]> = { retrieve: [], hybrid: [], vector: [], text: [] };
    const machineBefore = machineCpu();
    const pgBefore = cpuOfProcessesMatching(databaseName);
    const selfBefore = process.cpuUsage();
    const windowStart = performance.now();
    for (const query of queries) {
      const results = await run(query);
      for (const leg of legs) {
        samples[leg].push({ onTopic: query.onTopic, value: results[leg].ms });
        counts[leg].push(results[leg].value.length);
      }
      legIds.push((results.vector.value as { id: string }[]).map((row) => row.id));
    }
    const seconds = (performance.now() - windowStart) / 1_000;
    const self = process.cpuUsage(selfBefore);
    const pgCpu = cpuDelta(pgBefore, cpuOfProcessesMatching(databaseName));
    const benchCpu = (self.user + self.system) / 1e6;
    const other = machineCpu().busy - machineBefore.busy - benchCpu - pgCpu;
    return {
      scope,
      samples,
      legIds,
      counts,
      seconds,
      benchCpu,
      pgCpu,
      otherShare: other / (cores * seconds),
    };
  };
  const bigPass = await latencyPass(big, bigQueries);
  const smallPass = await latencyPass(small, smallQueries);

  // ---- the text leg at this scale ----
  progress('text leg: matches per question');
  const matchCounts: { any: number; half: number }[] = [];
  for (const query of bigQueries.slice(0, 50)) {
    const { rows } = await client.query<{ any: number; half: number }>(
      `with words as (select array_agg(lexeme) as lexemes from unnest(to_tsvector('english', $1))),
            matches as (
              select (select count(*) from unnest(w.lexemes) word where c.search_vector @@ to_tsquery('simple', quote_literal(word))) as matched,
                     cardinality(w.lexemes) as total
                from document_chunks c, words w
               where c.user_id = $2
                 and c.search_vector @@ to_tsquery('simple', array_to_string(array(select quote_literal(l) from unnest(w.lexemes) l), ' | ')))
       select count(*)::int as any, count(*) filter (where matched * 2 >= total)::int as half from matches`,
      [query.question, big.id],
    );
    matchCounts.push(rows[0]!);
  }

  // ---- plans ----
  progress('plans: EXPLAIN ANALYZE');
  const bigSample = bigQueries.find((query) => !query.onTopic) ?? bigQueries[0]!;
  const smallSample = smallQueries[0]!;
  const plans: { title: string; lines: string[] }[] = [];
  const addPlan = async (title: string, work: () => Promise<unknown>) =>
    plans.push({ title, lines: await explain(client, await captureSql(orm, work)) });
  await addPlan(
    `Vector leg, big tenant (own index), off-topic query, limit ${candidates}, probes ${OWN_INDEX_PROBES}`,
    () => nearestByVector(orm.em.fork(), bigPass.scope, bigSample.vector, candidates),
  );
  await addPlan(`Vector leg, small tenant (exact), limit ${candidates}`, () =>
    nearestByVector(orm.em.fork(), smallPass.scope, smallSample.vector, candidates),
  );
  await addPlan(`Text leg, big tenant: ${bigSample.question}`, () =>
    hybridSearch(orm.em.fork(), bigPass.scope, {
      text: bigSample.question,
      words: 'any',
      minCoverage: 0.5,
      limit: options.topK,
    }),
  );

  // ---- deletes while other users search ----
  const deleteRows: string[][] = [];
  if (options.deletes) {
    const searchers = [small, ...others.filter((tenant) => tenant.index > 2).slice(0, 1), tenants[3]!].filter(
      (tenant, index, list) => list.indexOf(tenant) === index,
    );
    const searcherQueries = new Map(searchers.map((tenant) => [tenant, makeQueries(tenant, allTopics)]));
    /** Other users' hybrid searches back to back on one connection while `work` runs; their latencies. */
    const searchesDuring = async (label: string, work: () => Promise<unknown>) => {
      progress(`searches during: ${label}`);
      const scopes = await Promise.all(
        searchers.map((tenant) => documentSearchScope(orm.em.fork(), tenant.id, null)),
      );
      const latencies: number[] = [];
      let done = false;
      let workMs = 0;
      const loop = (async () => {
        let turn = 0;
        while (!done || latencies.length < 20) {
          const which = turn % searchers.length;
          const queries = searcherQueries.get(searchers[which]!)!;
          const query = queries[Math.floor(turn / searchers.length) % queries.length]!;
          turn += 1;
          const { ms: elapsed } = await timed(() =>
            hybridSearch(orm.em.fork(), scopes[which]!, {
              vector: query.vector,
              text: query.question,
              words: 'any',
              minCoverage: 0.5,
              limit: options.topK,
            }),
          );
          latencies.push(elapsed);
        }
      })();
      const result = await timed(work);
      workMs = result.ms;
      done = true;
      await loop;
      deleteRows.push([label, fixed(workMs / 1_000, 2), ...latencyCells(latencies)]);
    };
    await searchesDuring(
      'nothing else (baseline, 3 s)',
      () => new Promise((resolve) => setTimeout(resolve, 3_000)),
    );
    const [batchedDocument, cascadeDocument] = tenants[2]!.documents;
    if (batchedDocument)
      await searchesDuring(
        `delete a ${batchedDocument.chunks}-chunk document, batched (as DocumentLibrary.remove)`,
        async () => {
          await deleteChunksInBatches(orm.em.fork(), {
            documentId: batchedDocument.id,
            userId: tenants[2]!.id,
          });
          await client.query('delete from documents where id = $1', [batchedDocument.id]);
        },
      );
    if (cascadeDocument)
      await searchesDuring(
        `delete a ${cascadeDocument.chunks}-chunk document, one cascading statement (before)`,
        () => client.query('delete from documents where id = $1', [cascadeDocument.id]),
      );
    const remaining = (
      await client.query<{ count: number }>(
        'select count(*)::int as count from document_chunks where user_id = $1',
        [big.id],
      )
    ).rows[0]!.count;
    await searchesDuring(
      `delete the big tenant (${remaining} chunks), batched, then the user (as the admin route)`,
      async () => {
        await deleteUserChunks(orm.em.fork(), big.id);
        await client.query('delete from users where id = $1', [big.id]);
      },
    );
    const left = (
      await client.query<{ count: number }>(
        'select count(*)::int as count from document_chunks where user_id = $1',
        [big.id],
      )
    ).rows[0]!.count;
    if (left !== 0) throw new Error(`the big tenant's delete left ${left} chunks`);
  }

  // ---- report ----
  out();
  out('Load');
  out(table(['step', 'seconds', 'rows/s'], loadRows, 1));
  out(`  sizes: ${sizes.map((row) => `${row.name} ${row.size}`).join('; ')}`);

  out();
  out(
    `Latency (ms, one query at a time from this process, after ${WARM_UP_QUERIES} warm-up queries; topK ${options.topK}, ${candidates} candidates a leg, probes ${OWN_INDEX_PROBES})`,
  );
  const labels: Record<Leg, string> = {
    retrieve: 'DocumentRetriever.retrieve (scope + hybrid + passages)',
    hybrid: 'hybridSearch (both legs)',
    vector: 'vector leg only',
    text: 'text leg only',
  };
  const latencyRows: string[][] = [];
  for (const [name, pass] of [
    [`big tenant (${big.chunks} chunks, own index)`, bigPass],
    [`small tenant (${small.chunks} chunks, exact)`, smallPass],
  ] as const) {
    for (const leg of legs)
      for (const subset of subsets) {
        const picked = values(pass.samples[leg], subset);
        if (picked.length > 0)
          latencyRows.push([
            subset === 'all' && leg === 'retrieve' ? name : '',
            subset === 'all' ? labels[leg] : '',
            subsetName[subset],
            ...latencyCells(picked),
          ]);
      }
  }
  out(table(['tenant', 'query', 'queries', 'n', 'p50', 'p95', 'p99', 'max'], latencyRows, 3));
  const interference = (pass: typeof bigPass) =>
    `this process ${fixed(pass.benchCpu, 1)} CPU s, this database's backends ${fixed(pass.pgCpu, 1)} CPU s, everything else ${fixed(Math.max(0, 100 * pass.otherShare), 0)}% of ${cores} cores over ${fixed(pass.seconds, 1)} s${pass.otherShare > 0.1 ? ' — other load was present: figures are disturbed' : ''}`;
  out(`  during the big tenant's pass: ${interference(bigPass)}`);
  out(`  during the small tenant's pass: ${interference(smallPass)}`);
  out(
    `  results: big tenant ${fixed(mean(bigPass.counts.hybrid), 1)} hits, ${fixed(mean(bigPass.counts.retrieve), 1)} passages kept; small tenant ${fixed(mean(smallPass.counts.hybrid), 1)} hits, ${fixed(mean(smallPass.counts.retrieve), 1)} kept (word coverage ≥ 0.5 or similarity ≥ ${MIN_SIMILARITY})`,
  );

  out();
  out('Recall@10 of the vector leg against exact search with the same filter (mean over queries)');
  const recallRows: string[][] = [];
  const recallRow = (label: string, recall: Sample[], latency: Sample[] | null, build = '', size = '') => {
    const all = values(recall, 'all');
    recallRows.push([
      label,
      fixed(mean(all), 3),
      fixed(mean(values(recall, 'on')), 3),
      fixed(mean(values(recall, 'off')), 3),
      fixed(Math.min(...all), 1),
      latency ? ms(pct(values(latency, 'all'), 50)) : '',
      latency ? ms(pct(values(latency, 'all'), 95)) : '',
      build,
      size,
    ]);
  };
  const recallOf = (found: string[][], truth: string[][], queries: Query[]): Sample[] =>
    queries.map((query) => ({
      onTopic: query.onTopic,
      value: overlap(found[query.index]!, truth[query.index]!),
    }));
  recallRow(
    `big tenant, as hybridSearch runs it (own index, limit ${candidates}, probes ${OWN_INDEX_PROBES}; first 10)`,
    recallOf(bigPass.legIds, bigTruth.ids, bigQueries),
    bigPass.samples.vector,
  );
  recallRow(
    `small tenant, as hybridSearch runs it (exact, limit ${candidates}; first 10)`,
    recallOf(smallPass.legIds, smallTruth.ids, smallQueries),
    smallPass.samples.vector,
  );
  for (const alternative of alternatives)
    for (const [ef, row] of alternative.rows)
      recallRow(
        `${alternative.label}, limit 10, ${alternative.knob ?? 'ef_search'} ${ef}`,
        row.recall,
        row.ms,
        alternative.build,
        alternative.size,
      );
  recallRow(
    'big tenant, exact search (the truth)',
    bigTruth.times.map((sample) => ({ ...sample, value: 1 })),
    bigTruth.times,
  );
  recallRow(
    'small tenant, exact search (the truth)',
    smallTruth.times.map((sample) => ({ ...sample, value: 1 })),
    smallTruth.times,
  );
  out(
    table(
      ['vector query', 'recall', 'on-topic', 'off-topic', 'min', 'p50 ms', 'p95 ms', 'build s', 'index size'],
      recallRows,
      1,
    ),
  );

  for (const [name, truth] of [
    ['big', bigTruth],
    ['small', smallTruth],
  ] as const)
    out(
      `  ${name} tenant's exact neighbours: similarity of the nearest p50 on-topic ${fixed(pct(values(truth.nearest, 'on'), 50), 3)}, off-topic ${fixed(pct(values(truth.nearest, 'off'), 50), 3)}; nearest minus 11th p50 on-topic ${fixed(pct(values(truth.gaps, 'on'), 50), 3)}, off-topic ${fixed(pct(values(truth.gaps, 'off'), 50), 3)} (how far apart the top 11 are)`,
    );

  out();
  const anyMatches = matchCounts.map((count) => count.any);
  const halfMatches = matchCounts.map((count) => count.half);
  out(
    `Text leg, big tenant: GIN ${sizes.find((row) => row.name.includes('GIN'))?.size}; chunks matching any word of the question p50/p95 ${fixed(pct(anyMatches, 50), 0)}/${fixed(pct(anyMatches, 95), 0)}, at least half of them ${fixed(pct(halfMatches, 50), 0)}/${fixed(pct(halfMatches, 95), 0)} (first ${matchCounts.length} questions); ranked over at most 500 candidates that contain at least half the words`,
  );

  if (deleteRows.length > 0) {
    out();
    out(`Other users' hybrid searches (back to back, one connection) while deleting: latency ms`);
    out(table(['while', 'delete s', 'searches', 'p50', 'p95', 'p99', 'max'], deleteRows, 1));
  }

  out();
  out(
    'Plans (EXPLAIN (ANALYZE, BUFFERS) of the statements as MikroORM sent them; vector literals shortened)',
  );
  for (const { title, lines } of plans) {
    out(`  ${title}`);
    for (const line of lines) out(`    ${line.replace(/'\[[^\]]{40,}\]'/g, "'[…384 floats…]'")}`);
  }
  const usesOwnIndex = plans[0]!.lines.some((line) => line.includes(bigIndex));
  const smallUsesHnsw = plans[1]!.lines.some((line) => /hnsw|embedding_u/.test(line));
  out(
    `  check: big tenant's vector leg ${usesOwnIndex ? 'uses' : 'does NOT use'} its own index; small tenant's ${smallUsesHnsw ? 'uses an HNSW index (unexpected)' : 'is exact (no HNSW)'}`,
  );

  out();
  const verdict = (met: boolean) => (met ? 'met' : 'NOT met');
  out('Targets');
  for (const [name, pass, truth, queries] of [
    ['big tenant', bigPass, bigTruth, bigQueries],
    ['small tenant', smallPass, smallTruth, smallQueries],
  ] as const) {
    const p95 = pct(values(pass.samples.hybrid, 'all'), 95);
    const recall = recallOf(pass.legIds, truth.ids, queries);
    const on = mean(values(recall, 'on'));
    const off = mean(values(recall, 'off'));
    out(
      `  ${name}: hybrid p95 ${ms(p95)} ms (< ${TARGETS.hybridP95Ms}) → ${verdict(p95 < TARGETS.hybridP95Ms)}; recall@10 on-topic ${fixed(on, 3)}, off-topic ${fixed(off, 3)} (≥ ${TARGETS.recall}) → ${verdict(Math.min(on, off) >= TARGETS.recall)}`,
    );
  }
  const userDelete = deleteRows.at(-1);
  if (userDelete)
    out(
      `  search p95 during the big tenant's delete: ${userDelete[4]} ms (< ${TARGETS.duringDeleteP95Ms}) → ${verdict(Number(userDelete[4]) < TARGETS.duringDeleteP95Ms)}`,
    );

  out();
  out('Setup');
  out(
    `  data: ${options.chunks} chunks in ${documents.length} ready documents of ${tenants.length} users; big tenant ${big.chunks} chunks in ${big.documents.length} documents on ${big.topics.size} topics; small tenant ${small.chunks} in ${small.documents.length} on ${small.topics.size}; ${ownIndexUsers.length} users have ≥ ${OWN_INDEX_MIN_CHUNKS} chunks (own index); the largest other user ${Math.max(...tenants.slice(3).map((tenant) => tenant.chunks))}`,
  );
  out(
    `  vectors: ${DIMENSIONS}-d unit length, Gaussian mixture of ${options.clusters} components (centroid + ${SUBSPACE_SCALE} × point of a ${options.rank}-d subspace + noise of norm ${options.noise}); seed ${options.seed}`,
  );
  out(
    `  queries: ${options.queries} a tenant (big: ${bigQueries.filter((query) => !query.onTopic).length} off-topic; small: ${smallQueries.filter((query) => !query.onTopic).length} off-topic), e.g. "${bigSample.question}"`,
  );
  out(
    `  postgres ${server.version}, pgvector ${server.vector}, shared_buffers ${server.sharedBuffers}, work_mem ${server.workMem}, jit ${server.jit}; index builds with maintenance_work_mem 2GB, ${options.buildWorkers} parallel workers`,
  );
  out(`  machine: ${machineFacts()} (at start ${loadAtStart})`);
  out(`  command: node bench/retrieval.ts ${process.argv.slice(2).join(' ')}`.trimEnd());
  out(`  total time: ${fixed((performance.now() - startedAt) / 1_000, 1)} s`);
  if (flags.keep) out(`  database kept (--keep): ${databaseUrl}`);
}

await cleanups.run(main);
