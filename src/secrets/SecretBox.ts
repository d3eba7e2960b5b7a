import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

const VERSION = 'v1';

/**
 * Encrypts the secrets Parley keeps for others (an OpenAI-compatible provider's API key) so a
 * database dump or backup does not hold them in clear: AES-256-GCM, with a key derived (HKDF)
 * from PROVIDER_KEY_SECRET, or from the JWT secret when that is unset. Changing that secret
 * makes the stored keys unreadable: an admin then sets them again (a provider whose key can't be
 * read answers "credentials refused" instead of sending a wrong key).
 */
export class SecretBox {
  private readonly key: Buffer;

  constructor(secret: string) {
    this.key = Buffer.from(hkdfSync('sha256', secret, 'parley', 'provider api keys', 32));
  }

  seal(plain: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const sealed = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return `${VERSION}:${Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString('base64url')}`;
  }

  /** The plain text, or null when it was sealed with another secret (or is not ours). */
  open(sealed: string): string | null {
    const [version, body] = sealed.split(':');
    if (version !== VERSION || !body) return null;
    try {
      const bytes = Buffer.from(body, 'base64url');
      const decipher = createDecipheriv('aes-256-gcm', this.key, bytes.subarray(0, 12));
      decipher.setAuthTag(bytes.subarray(12, 28));
      return Buffer.concat([decipher.update(bytes.subarray(28)), decipher.final()]).toString('utf8');
    } catch {
      return null;
    }
  }
}
