import { spawn, spawnSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Logger } from '../logger.ts';
import { DEFAULT_REDIS_URL, redisAnswers } from '../redis/connections.ts';
import { freePort } from './freePort.ts';

export class RedisUnavailableError extends Error {}

const HOW_TO_GET_REDIS = [
  'Parley needs Redis and none answers at redis://127.0.0.1:6379.',
  'Either install one (Debian/Ubuntu: `sudo apt-get install redis-server`; macOS: `brew install redis`)',
  'and run `npm start` again (a private redis-server is started under .data/ when the binary exists),',
  'or run everything with `docker compose up`, or point REDIS_URL at your Redis.',
].join('\n');

/**
 * The one-process mode's Redis: the configured or default one when it answers, otherwise a
 * private `redis-server` with its data under dataDir (reused across restarts). Returns its URL
 * and a stop function (a no-op when the Redis was not ours).
 */
export async function ensureLocalRedis(
  configuredUrl: string | undefined,
  dataDir: string,
  logger: Logger,
): Promise<{ url: string; stop: () => Promise<void> }> {
  const notOurs = async () => {};
  if (configuredUrl) {
    if (await redisAnswers(configuredUrl)) return { url: configuredUrl, stop: notOurs };
    throw new RedisUnavailableError(
      'REDIS_URL is set but nothing answers there; check the address or unset it.',
    );
  }
  if (await redisAnswers(DEFAULT_REDIS_URL)) return { url: DEFAULT_REDIS_URL, stop: notOurs };

  const directory = resolve(dataDir, 'redis');
  await mkdir(directory, { recursive: true });
  const portFile = join(directory, 'port');
  const previousPort = await readFile(portFile, 'utf8').catch(() => '');
  if (previousPort && (await redisAnswers(`redis://127.0.0.1:${previousPort.trim()}`))) {
    logger.info({ port: Number(previousPort) }, 'reusing the private redis-server');
    return { url: `redis://127.0.0.1:${previousPort.trim()}`, stop: notOurs };
  }
  if (spawnSync('redis-server', ['--version']).error) throw new RedisUnavailableError(HOW_TO_GET_REDIS);

  const port = await freePort();
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--dir', directory, '--appendonly', 'yes', '--save', ''],
    { stdio: 'ignore' },
  );
  const url = `redis://127.0.0.1:${port}`;
  for (let attempt = 0; attempt < 50 && !(await redisAnswers(url, 200)); attempt++) {
    if (child.exitCode !== null) break;
    await new Promise((done) => setTimeout(done, 100));
  }
  if (!(await redisAnswers(url))) {
    child.kill();
    throw new RedisUnavailableError(
      `a private redis-server did not start on port ${port}.\n${HOW_TO_GET_REDIS}`,
    );
  }
  await writeFile(portFile, String(port));
  logger.info({ port, directory }, 'started a private redis-server');
  return {
    url,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((done) => child.once('exit', done));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
