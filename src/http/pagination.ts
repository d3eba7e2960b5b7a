import { z } from 'zod';

/** `?limit=&cursor=` for every list; the cursor is the last id of the previous page (UUIDv7, time-ordered). */
export const pageQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.uuid().optional(),
});

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** Rows fetched with limit + 1: the extra row only tells whether another page exists. */
export function toPage<Row extends { id: string }, T>(
  rows: Row[],
  limit: number,
  present: (row: Row) => T,
): Page<T> {
  const items = rows.slice(0, limit);
  return { items: items.map(present), nextCursor: rows.length > limit ? items[items.length - 1]!.id : null };
}
