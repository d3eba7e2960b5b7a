import type { Embedder } from './Embedder.ts';

/**
 * Start-up check that three numbers agree: the dimension the model really produces, EMBEDDING_DIM,
 * and the vector(N) columns of the schema. A mismatch would otherwise surface later as failed
 * inserts or meaningless search results.
 */
export async function assertEmbeddingDimensions(
  embedder: Embedder,
  /** EMBEDDING_DIM from the configuration. */
  expected: number,
  /** The dimension of the schema's vector columns (EMBEDDING_DIMENSIONS in src/db/columns.ts). */
  schemaDimensions: number,
): Promise<void> {
  const { dimensions } = await embedder.ready();
  if (dimensions !== expected) {
    throw new Error(
      `Embedding model "${embedder.model}" produces ${dimensions}-dimensional vectors but EMBEDDING_DIM is ${expected}. ` +
        `Set EMBEDDING_DIM=${dimensions} only if the database schema stores vector(${dimensions}); the schema here stores ` +
        `vector(${schemaDimensions}), so choose a ${schemaDimensions}-dimensional model (EMBEDDING_MODEL) or change ` +
        'the schema by a migration (and re-embed stored content).',
    );
  }
  if (expected !== schemaDimensions) {
    throw new Error(
      `EMBEDDING_DIM is ${expected} but the database schema stores vector(${schemaDimensions}). ` +
        `Choose a ${schemaDimensions}-dimensional model and set EMBEDDING_DIM=${schemaDimensions}, or change the ` +
        `schema to vector(${expected}) by a migration (EMBEDDING_DIMENSIONS in src/db/columns.ts) and re-embed stored content.`,
    );
  }
}
