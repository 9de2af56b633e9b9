/**
 * Password hashing with scrypt (node:crypto, no native modules). The stored string names its parameters,
 * `scrypt$<N>$<r>$<p>$<salt>$<hash>` (base64url), so they can be raised without breaking old hashes: a hash
 * verifies with the parameters it names, and `needsRehash` tells which ones to replace at the next sign-in.
 */
import { randomBytes, type ScryptOptions, scrypt, timingSafeEqual } from 'node:crypto';

/**
 * OWASP's minimum for scrypt (Password Storage Cheat Sheet): N=2^17, r=8, p=1, which takes 128 MiB and
 * about a second of one core per hash on a small machine.
 */
export const SCRYPT_PARAMETERS = { N: 2 ** 17, r: 8, p: 1 } as const;
const KEY_LENGTH = 32;
// Hashed when the user does not exist, so an unknown name costs the same time as a wrong password.
const UNKNOWN_USER_SALT = randomBytes(16);

function derive(password: string, salt: Buffer, n: number, r: number, p: number): Promise<Buffer> {
  // scrypt needs 128 * N * r bytes; Node refuses anything over maxmem (32 MiB by default).
  const options: ScryptOptions = { N: n, r, p, maxmem: 256 * n * r + 1024 * 1024 };
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, KEY_LENGTH, options, (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });
}

/** Hashes a password for storage, with the current parameters. */
export async function hashPassword(password: string): Promise<string> {
  const { N, r, p } = SCRYPT_PARAMETERS;
  const salt = randomBytes(16);
  const key = await derive(password, salt, N, r, p);
  return `scrypt$${N}$${r}$${p}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

function parse(stored: string) {
  const [scheme, n, r, p, salt, key] = stored.split('$');
  if (scheme !== 'scrypt' || !n || !r || !p || !salt || !key) return null;
  return { n: Number(n), r: Number(r), p: Number(p), salt, key };
}

/** Checks a password against a stored hash (or, when there is none, spends the same time and fails). */
export async function verifyPassword(password: string, stored: string | undefined): Promise<boolean> {
  if (stored === undefined) {
    const { N, r, p } = SCRYPT_PARAMETERS;
    await derive(password, UNKNOWN_USER_SALT, N, r, p);
    return false;
  }
  const hash = parse(stored);
  if (!hash) return false;
  const expected = Buffer.from(hash.key, 'base64url');
  const actual = await derive(password, Buffer.from(hash.salt, 'base64url'), hash.n, hash.r, hash.p);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** Whether a stored hash was made with weaker parameters than new hashes get (replace it after a sign-in). */
export function needsRehash(stored: string): boolean {
  const hash = parse(stored);
  const { N, r, p } = SCRYPT_PARAMETERS;
  return !hash || hash.n < N || hash.r < r || hash.p < p;
}
