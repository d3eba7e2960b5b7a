import { readFileSync } from 'node:fs';
import { expect } from 'chai';

const source = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

/** The event names declared in one interface of src/relay/events.ts. */
function declaredEvents(interfaceName: string): string[] {
  const body = source('src/relay/events.ts')
    .split(`export interface ${interfaceName} {`)[1]!
    .split('\n}')[0]!;
  return [...body.matchAll(/^\s+'([a-z]+:[a-z]+)':/gm)].map((match) => match[1]!);
}

/** The event names in the first column of the table under `heading` in docs/realtime.md. */
function documentedEvents(heading: string): string[] {
  const section = source('docs/realtime.md').split(`## ${heading}`)[1]!.split('\n## ')[0]!;
  return [...section.matchAll(/^\| `([a-z]+:[a-z]+)` \|/gm)].map((match) => match[1]!);
}

describe('docs/realtime.md', () => {
  it('documents exactly the client → server events the code declares', () => {
    const declared = declaredEvents('ClientToServerEvents');
    expect(declared).to.include('chat:send');
    expect(documentedEvents('Client → server')).to.have.members(declared);
  });

  it('documents exactly the server → client events the code declares', () => {
    const declared = declaredEvents('ServerToClientEvents');
    expect(declared).to.include('chat:token');
    expect(documentedEvents('Server → client')).to.have.members(declared);
  });
});
