import { signal } from '@preact/signals';
import { api } from '../api/http.ts';

/** Prompt suggestions an empty conversation offers (admins edit them in settings). */
export const suggestions = signal<string[] | null>(null);

let loading: Promise<void> | null = null;

export function loadSuggestions(force = false): Promise<void> {
  if (suggestions.value && !force) return Promise.resolve();
  loading ??= api<{ suggestions: string[] }>('GET', '/api/v1/prompt-suggestions')
    .then((answer) => {
      suggestions.value = answer.suggestions;
    })
    .catch(() => {
      // Optional decoration: an edge without the endpoint simply shows none.
      suggestions.value = [];
    })
    .finally(() => {
      loading = null;
    });
  return loading;
}
