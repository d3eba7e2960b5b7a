import { readFileSync } from 'node:fs';

/**
 * The event names declared in one interface of src/relay/events.ts, read from the source:
 * a TypeScript interface has no run-time form, and reading it means a new event is covered by
 * the tests that use this list without anyone updating them.
 */
export function declaredEvents(interfaceName: 'ClientToServerEvents' | 'ServerToClientEvents'): string[] {
  const source = readFileSync(new URL('../../src/relay/events.ts', import.meta.url), 'utf8');
  const body = source.split(`export interface ${interfaceName} {`)[1]?.split('\n}')[0];
  if (!body) throw new Error(`src/relay/events.ts declares no ${interfaceName}`);
  return [...body.matchAll(/^\s+'([a-z]+:[a-z]+)':/gm)].map((match) => match[1]!);
}
