import type { MigrationObject } from '@mikro-orm/core';
import { Migration20261122000000Initial } from './Migration20261122000000Initial.ts';
import { Migration20261122010000SummaryCursor } from './Migration20261122010000SummaryCursor.ts';
import { Migration20261122020000InlineEmbeddings } from './Migration20261122020000InlineEmbeddings.ts';
import { Migration20261201000000MessageTokenCounts } from './Migration20261201000000MessageTokenCounts.ts';
import { Migration20261201010000OwnVectorIndexes } from './Migration20261201010000OwnVectorIndexes.ts';
import { Migration20261201020000IvfOwnIndexes } from './Migration20261201020000IvfOwnIndexes.ts';
import { Migration20261201100000ToolCalls } from './Migration20261201100000ToolCalls.ts';
import { Migration20261201110000ModelProviders } from './Migration20261201110000ModelProviders.ts';
import { Migration20261201120000McpServers } from './Migration20261201120000McpServers.ts';
import { Migration20261208000000WebSocketProviders } from './Migration20261208000000WebSocketProviders.ts';

/** Every migration, oldest first. A new migration file is also added here. */
export const MIGRATIONS: MigrationObject[] = [
  { name: 'Migration20261122000000Initial', class: Migration20261122000000Initial },
  { name: 'Migration20261122010000SummaryCursor', class: Migration20261122010000SummaryCursor },
  { name: 'Migration20261122020000InlineEmbeddings', class: Migration20261122020000InlineEmbeddings },
  { name: 'Migration20261201000000MessageTokenCounts', class: Migration20261201000000MessageTokenCounts },
  { name: 'Migration20261201010000OwnVectorIndexes', class: Migration20261201010000OwnVectorIndexes },
  { name: 'Migration20261201020000IvfOwnIndexes', class: Migration20261201020000IvfOwnIndexes },
  { name: 'Migration20261201120000McpServers', class: Migration20261201120000McpServers },
  { name: 'Migration20261201110000ModelProviders', class: Migration20261201110000ModelProviders },
  { name: 'Migration20261201100000ToolCalls', class: Migration20261201100000ToolCalls },
  { name: 'Migration20261208000000WebSocketProviders', class: Migration20261208000000WebSocketProviders },
];
