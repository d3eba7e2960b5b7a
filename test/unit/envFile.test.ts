import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseEnv, promisify } from 'node:util';
import { expect } from 'chai';
import { ConfigError } from '../../src/config.ts';
import { loadEnvFile } from '../../src/process/envFile.ts';

const EXAMPLE = fileURLToPath(new URL('../../.env.example', import.meta.url));
const WEB = fileURLToPath(new URL('../../src/web.ts', import.meta.url));
const run = promisify(execFile);

/** The outcome of a command that may fail: exit code and output, never a throw. */
async function outcome(file: string, args: string[], options: { cwd?: string; env: NodeJS.ProcessEnv }) {
  try {
    const { stdout, stderr } = await run(file, args, options);
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('settings files', () => {
  it('.env.example can be sourced by a shell and gives the values Node reads from it', async () => {
    // -e: any line the shell cannot run (an unquoted value with spaces) fails the whole source.
    const shell = await outcome(
      'bash',
      ['-ec', 'set -a; . "$1"; set +a; node -e "console.log(JSON.stringify(process.env))"', 'bash', EXAMPLE],
      { env: { PATH: process.env.PATH } },
    );
    expect(shell.code, shell.stderr).to.equal(0);
    const sourced = JSON.parse(shell.stdout) as Record<string, string>;
    const documented = parseEnv(readFileSync(EXAMPLE, 'utf8'));
    expect(documented.RETENTION_CRON).to.equal('17 3 * * *');
    for (const [name, value] of Object.entries(documented)) expect(sourced[name], name).to.equal(value);
  });

  describe('loadEnvFile', () => {
    let folder: string;
    before(() => {
      folder = mkdtempSync(join(tmpdir(), 'parley-env-'));
    });
    after(() => rmSync(folder, { recursive: true, force: true }));

    it('never overrides a variable already set, even to an empty value', () => {
      const file = join(folder, 'settings.env');
      writeFileSync(
        file,
        "PARLEY_ENVTEST_NEW=from-file\nPARLEY_ENVTEST_SET=from-file\nPARLEY_ENVTEST_EMPTY=from-file\nPARLEY_ENVTEST_CRON='17 3 * * *'\n",
      );
      process.env.PARLEY_ENVTEST_SET = 'from-environment';
      process.env.PARLEY_ENVTEST_EMPTY = '';
      try {
        expect(loadEnvFile({ PARLEY_ENV_FILE: file })).to.equal(file);
        expect(process.env.PARLEY_ENVTEST_NEW).to.equal('from-file');
        expect(process.env.PARLEY_ENVTEST_SET).to.equal('from-environment');
        expect(process.env.PARLEY_ENVTEST_EMPTY).to.equal('');
        expect(process.env.PARLEY_ENVTEST_CRON).to.equal('17 3 * * *');
      } finally {
        for (const name of ['NEW', 'SET', 'EMPTY', 'CRON']) delete process.env[`PARLEY_ENVTEST_${name}`];
      }
    });

    it('reads ./.env by default, skips it when absent, and reads nothing when PARLEY_ENV_FILE is empty', () => {
      const asked: string[] = [];
      const missing = (path: string) => {
        asked.push(path);
        throw Object.assign(new Error('no such file'), { code: 'ENOENT' });
      };
      expect(loadEnvFile({}, missing)).to.equal(undefined);
      expect(asked).to.deep.equal(['.env']);
      expect(loadEnvFile({ PARLEY_ENV_FILE: '' }, missing)).to.equal(undefined);
      expect(asked).to.have.length(1);
    });

    it('stops on a file PARLEY_ENV_FILE names that cannot be read, naming the file only', () => {
      const file = join(folder, 'absent.env');
      expect(() => loadEnvFile({ PARLEY_ENV_FILE: file }))
        .to.throw(ConfigError)
        .with.property('message')
        .that.includes('PARLEY_ENV_FILE')
        .and.includes(file);
    });

    it('is read by an entry point from its working folder; the environment wins over it', async () => {
      writeFileSync(join(folder, '.env'), 'LOG_LEVEL=loud\n');
      // start:web stops at its settings check before touching any service, so no server starts.
      const start = (env: NodeJS.ProcessEnv) =>
        outcome(process.execPath, [WEB], { cwd: folder, env: { PATH: process.env.PATH, ...env } });
      const [fromFile, environmentWins, disabled] = await Promise.all([
        start({}),
        start({ LOG_LEVEL: 'warn' }),
        start({ PARLEY_ENV_FILE: '' }),
      ]);
      for (const result of [fromFile, environmentWins, disabled]) expect(result.code).to.equal(1);
      expect(fromFile.stderr).to.include('LOG_LEVEL');
      for (const result of [environmentWins, disabled]) {
        expect(result.stderr).not.to.include('LOG_LEVEL');
        expect(result.stderr).to.include('DATABASE_URL');
      }
    });
  });
});
