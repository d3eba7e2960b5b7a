import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { resolveJwtSecret } from '../auth/jwtSecret.ts';
import type { Config } from '../config.ts';

const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** A sealed value that can't be opened: the key changed (JWT_SECRET) or the text was altered. */
export class UnreadableSecretError extends Error {
  constructor() {
    super('a stored secret cannot be opened (was JWT_SECRET changed?); set it again');
    this.name = 'UnreadableSecretError';
  }
}

/**
 * Seals secrets stored in the database (MCP server headers) with AES-256-GCM. The key is derived
 * (HKDF-SHA256) from the server secret every edge and worker already share, JWT_SECRET (or the
 * one-process mode's generated secret), so there is no second key to distribute; a database dump
 * alone reveals nothing. Each value is bound to a context (its row id): a sealed value copied to
 * another row does not open. Changing JWT_SECRET makes sealed values unreadable: set them again.
 */
export class SecretBox {
  private readonly key: Buffer;

  constructor(serverSecret: string) {
    this.key = Buffer.from(hkdfSync('sha256', serverSecret, 'parley', 'parley secret box v1', 32));
  }

  static async fromConfig(config: Pick<Config, 'auth' | 'dataDir'>): Promise<SecretBox> {
    return new SecretBox(await resolveJwtSecret(config));
  }

  seal(plaintext: string, context: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(context));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return `${VERSION}.${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url')}`;
  }

  /** Throws UnreadableSecretError (which says nothing about the value) when it can't be opened. */
  open(sealed: string, context: string): string {
    const [version, payload] = sealed.split('.');
    if (version !== VERSION || !payload) throw new UnreadableSecretError();
    const bytes = Buffer.from(payload, 'base64url');
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, bytes.subarray(0, IV_BYTES));
      decipher.setAAD(Buffer.from(context));
      decipher.setAuthTag(bytes.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      return Buffer.concat([
        decipher.update(bytes.subarray(IV_BYTES + TAG_BYTES)),
        decipher.final(),
      ]).toString('utf8');
    } catch {
      throw new UnreadableSecretError();
    }
  }
}
