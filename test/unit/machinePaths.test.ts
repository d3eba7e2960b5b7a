import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
// Built from parts so this file does not match itself.
const MACHINE_FOLDERS = ['work', 'root'].map((folder) => `/${folder}/`);
/** Paths inside the container image, not on anyone's machine. */
const ALLOWED = [/--mount=type=cache,target=\/root\/\.npm/];

describe('repository files', () => {
  it('name no absolute path of one machine (every user must be able to follow them)', () => {
    const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], {
      cwd: ROOT,
      encoding: 'utf8',
    })
      .split('\n')
      .filter((file) => file && file !== 'package-lock.json');
    const found: string[] = [];
    for (const file of files) {
      let text: string;
      try {
        text = readFileSync(`${ROOT}${file}`, 'utf8');
      } catch {
        continue; // listed but deleted in the working tree
      }
      if (text.includes('\u0000')) continue; // binary (models, PDFs)
      text.split('\n').forEach((line, index) => {
        if (MACHINE_FOLDERS.some((folder) => line.includes(folder)) && !ALLOWED.some((ok) => ok.test(line)))
          found.push(`${file}:${index + 1}: ${line.trim()}`);
      });
    }
    expect(found).to.deep.equal([]);
  });
});
