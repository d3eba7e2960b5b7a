import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** A sealed value that can't be opened: the key changed (SECRETS_KEY / JWT_SECRET) or the text was altered. */
export class UnreadableSecretError extends Error {
  constructor() {
    super('a stored secret cannot be opened (was SECRETS_KEY or JWT_SECRET changed?); set it again');
    this.name = 'UnreadableSecretError';
  }
}

/**
 * Seals third-party secrets stored in the database (model providers' API keys, MCP server
 * headers) with AES-256-GCM. The key is derived (HKDF-SHA256) from SECRETS_KEY or, when unset, the
 * secret every edge and worker already share (JWT_SECRET, or the one-process mode's generated
 * one), so there need be no second key to distribute; a database dump alone reveals nothing. Each
 * value is bound to a context (its purpose and row): a sealed value copied elsewhere does not open.
 * Changing the secret makes sealed values unreadable: an admin sets them again. One per process
 * (Runtime.secrets).
 */
export class SecretBox {
  private readonly key: Buffer;

  constructor(serverSecret: string) {
    this.key = Buffer.from(hkdfSync('sha256', serverSecret, 'parley', 'parley secret box v1', 32));
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
