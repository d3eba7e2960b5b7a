import { hash, verify } from '@node-rs/argon2';

/** argon2id with the OWASP baseline (19 MiB, 2 passes); parameters travel inside each hash. */
const OPTIONS = {
  algorithm: 2 /* Algorithm.Argon2id: a const enum, not importable under verbatimModuleSyntax */ as const,
  memoryCost: 19_456,
  timeCost: 2,
  parallelism: 1,
};

export const hashPassword = (password: string): Promise<string> => hash(password, OPTIONS);

export async function passwordMatches(passwordHash: string, password: string): Promise<boolean> {
  try {
    return await verify(passwordHash, password);
  } catch {
    return false;
  }
}

// Checked when the email is unknown, so "no such user" costs the same time as "wrong password".
let decoyHash: Promise<string> | undefined;
export async function spendPasswordCheck(password: string): Promise<false> {
  decoyHash ??= hashPassword('decoy password that matches nothing');
  await passwordMatches(await decoyHash, password);
  return false;
}
