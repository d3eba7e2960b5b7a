import type { EntityManager } from '@mikro-orm/core';
import { Setting } from '../db/entities/Setting.ts';

/** What one maintenance run removed or repaired, by kind. */
export interface MaintenanceCounts {
  conversations: number;
  refreshTokens: number;
  replayStreams: number;
  stuckMessages: number;
  stuckDocuments: number;
}

export interface MaintenanceReport {
  trigger: 'schedule' | 'admin';
  startedAt: string;
  finishedAt: string;
  retentionDays: number;
  counts: MaintenanceCounts;
}

/** The last run is kept in the settings table, where every edge can read it. */
const LAST_RUN_KEY = 'maintenance:lastRun';

export const saveLastRun = (em: EntityManager, report: MaintenanceReport) =>
  em.upsert(Setting, { key: LAST_RUN_KEY, value: report, updatedAt: new Date() });

export async function readLastRun(em: EntityManager): Promise<MaintenanceReport | null> {
  const row = await em.findOne(Setting, { key: LAST_RUN_KEY });
  return (row?.value as MaintenanceReport | undefined) ?? null;
}
