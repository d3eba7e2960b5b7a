import { useEffect } from 'preact/hooks';
import { loadSuggestions, suggestions } from '../state/suggestions.ts';

/** Starting points for an empty conversation; a click sends the suggestion as the message. */
export function Suggestions({ onPick }: { onPick: (text: string) => void }) {
  useEffect(() => {
    void loadSuggestions();
  }, []);
  const list = suggestions.value ?? [];
  if (list.length === 0) return null;
  return (
    <fieldset class="suggestions">
      <legend class="visually-hidden">Suggestions</legend>
      {list.map((suggestion) => (
        <button key={suggestion} type="button" class="suggestion" onClick={() => onPick(suggestion)}>
          {suggestion}
        </button>
      ))}
    </fieldset>
  );
}
