import type { ProviderModel } from '../db/entities/ModelProvider.ts';
import { configuredRef, type ModelEntry } from './ModelCatalog.ts';

/**
 * Which ids a model's `fallbacks` may name: those GET /models lists. An answer drops a fallback
 * whose model is not there (ModelCatalog.chainFor), so a write that names one is refused
 * (`unknownFallbacks`), and one whose target went away later (its provider or model deleted,
 * disabled or renamed, even in the same PATCH) is shown to admins as dangling, never refused.
 */

/** A provider as it will be once a write is stored. */
export interface ProviderDraft {
  /** Its name before the write (null: it is new); its old models leave the list. */
  previousName: string | null;
  name: string;
  models: ProviderModel[];
  /** Its models before the write (a PATCH): the fallbacks they had are not checked again. */
  stored?: ProviderModel[];
}

/** The refs of `entries` (GET /models), with `draft`'s enabled models in place of its old ones. */
export function fallbackTargets(entries: ModelEntry[], draft?: ProviderDraft): Set<string> {
  const kept = entries.filter((entry) => !draft || entry.provider !== draft.previousName);
  const refs = new Set(kept.map((entry) => entry.ref));
  for (const model of draft?.models ?? []) if (model.enabled) refs.add(configuredRef(draft!.name, model.id));
  return refs;
}

/** One fallback that names no model of the list, with where it is in the request body. */
export interface UnknownFallback {
  path: string;
  ref: string;
}

/**
 * The fallbacks of `models` (a request body's `models`) that name no id of `targets`, but for
 * those the same model had already (`stored`, before a PATCH): a target that went away since is
 * dangling, not the request's fault, and keeping it must not block another change.
 */
export function unknownFallbacksOf(
  models: ProviderModel[],
  targets: Set<string>,
  stored: ProviderModel[] = [],
): UnknownFallback[] {
  return models.flatMap((model, index) => {
    const had = new Set(stored.find((old) => old.id === model.id)?.fallbacks ?? []);
    return model.fallbacks.flatMap((ref, position) =>
      targets.has(ref) || had.has(ref) ? [] : [{ path: `body.models.${index}.fallbacks.${position}`, ref }],
    );
  });
}

/** The fallbacks of one stored model whose target is not in the list any more. */
export const danglingFallbacks = (model: ProviderModel, targets: Set<string>): string[] =>
  model.fallbacks.filter((ref) => !targets.has(ref));
