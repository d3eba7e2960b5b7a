import { join, resolve } from 'node:path';
import type { Options } from '@mikro-orm/core';
import { Migrator } from '@mikro-orm/migrations';
import { PgliteDriver } from '@mikro-orm/pglite';
import { PostgreSqlDriver } from '@mikro-orm/postgresql';
import { MIGRATIONS } from '../../migrations/index.ts';
import type { Config } from '../config.ts';
import { ENTITIES } from './entities/index.ts';

/** Which database a configuration points at: a real Postgres server, or embedded PGlite under dataDir. */
export type DatabaseKind = 'postgres' | 'pglite';

export const databaseKind = (config: Pick<Config, 'database'>): DatabaseKind =>
  config.database.url ? 'postgres' : 'pglite';

export const pgliteDirectory = (config: Pick<Config, 'dataDir'>) => resolve(config.dataDir, 'pglite');

/** MikroORM options for either database; same entities, same migrations. */
export async function ormOptions(
  config: Pick<Config, 'database' | 'dataDir'>,
  log?: (message: string) => void,
): Promise<Partial<Options>> {
  const common = {
    ...(log ? { logger: log } : {}),
    entities: ENTITIES,
    extensions: [Migrator],
    migrations: {
      // An explicit list: no directory globbing, no guessing whether .ts files can be loaded.
      migrationsList: MIGRATIONS,
      path: join(import.meta.dirname, '../../migrations'),
      pathTs: join(import.meta.dirname, '../../migrations'),
      transactional: true,
      allOrNothing: true,
      snapshot: false,
      emit: 'ts' as const,
    },
    // Entities are plain schemas, so metadata never needs reflection or a cache folder.
    metadataCache: { enabled: false },
    allowGlobalContext: false,
    debug: false,
  } satisfies Partial<Options>;

  if (config.database.url) {
    return {
      ...common,
      driver: PostgreSqlDriver,
      clientUrl: config.database.url,
      pool: { min: 0, max: config.database.poolMax },
    };
  }
  const { vector } = await import('@electric-sql/pglite-pgvector');
  return {
    ...common,
    driver: PgliteDriver,
    dbName: pgliteDirectory(config),
    driverOptions: { extensions: { vector } },
  };
}
