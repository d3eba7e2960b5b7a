/**
 * Reciprocal rank fusion: each list votes 1 / (k + rank) for the items it ranked, so an item
 * near the top of either list rises, and one found by both rises furthest. Scores of the two
 * legs (cosine distance, ts_rank) live on different scales; ranks don't, which is why fusing
 * ranks beats mixing raw scores.
 */
export const RRF_K = 60;

export interface FusedItem<Id> {
  id: Id;
  score: number;
  /** 1-based position in each input list, or null where that list did not find it. */
  ranks: (number | null)[];
}

export function fuseRanks<Id>(lists: readonly (readonly Id[])[], k = RRF_K): FusedItem<Id>[] {
  const fused = new Map<Id, FusedItem<Id>>();
  lists.forEach((list, listIndex) => {
    list.forEach((id, position) => {
      let item = fused.get(id);
      if (!item) {
        item = { id, score: 0, ranks: lists.map(() => null) };
        fused.set(id, item);
      }
      // A list may repeat an id; only its best position counts.
      if (item.ranks[listIndex] !== null) return;
      item.ranks[listIndex] = position + 1;
      item.score += 1 / (k + position + 1);
    });
  });
  return [...fused.values()].sort((a, b) => b.score - a.score);
}
