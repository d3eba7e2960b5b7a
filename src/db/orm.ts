import { mkdir } from 'node:fs/promises';
import { MikroORM } from '@mikro-orm/core';
import type { Config } from '../config.ts';
import type { Logger } from '../logger.ts';
import { databaseKind, ormOptions, pgliteDirectory } from './ormOptions.ts';

export type Orm = MikroORM;

/** Connects, then applies pending migrations: the schema only ever changes through migrations/. */
export async function openDatabase(
  config: Pick<Config, 'database' | 'dataDir'>,
  logger: Logger,
): Promise<Orm> {
  if (databaseKind(config) === 'pglite') {
    await mkdir(pgliteDirectory(config), { recursive: true });
  }
  const orm = await MikroORM.init(
    await ormOptions(config, (message) => logger.debug({ component: 'mikro-orm' }, message)),
  );
  const applied = await orm.migrator.up();
  logger.info(
    { database: databaseKind(config), migrationsApplied: applied.map((migration) => migration.name) },
    'database ready',
  );
  return orm;
}
