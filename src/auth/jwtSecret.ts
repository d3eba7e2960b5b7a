import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Config } from '../config.ts';

/**
 * JWT_SECRET when set. The one-process mode may run without it: a random secret is generated
 * once and kept (mode 600) under DATA_DIR, so tokens survive a restart.
 */
export async function resolveJwtSecret(config: Pick<Config, 'auth' | 'dataDir'>): Promise<string> {
  if (config.auth.jwtSecret) return config.auth.jwtSecret;
  const file = join(resolve(config.dataDir), 'jwt-secret');
  const existing = await readFile(file, 'utf8').catch(() => '');
  if (existing.trim().length >= 32) return existing.trim();
  await mkdir(resolve(config.dataDir), { recursive: true });
  const secret = randomBytes(48).toString('base64url');
  await writeFile(file, secret, { mode: 0o600 });
  return secret;
}
