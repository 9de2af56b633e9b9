/**
 * Password hashing with Argon2id (@node-rs/argon2, prebuilt from npm; OWASP's first choice), stored as its
 * PHC string `$argon2id$v=19$m=..,t=..,p=..$<salt>$<hash>`, which names its parameters: they can be raised
 * without breaking old hashes, and `needsRehash` tells which ones to replace at the next sign-in.
 *
 * Hashes from before 2026-12-07 are scrypt (`scrypt$<N>$<r>$<p>$<salt>$<hash>`, base64url): they still
 * verify, and are replaced by Argon2id at the user's next sign-in. Argon2id at OWASP's minimum costs about
 * 20 ms of one core where scrypt at its minimum (N=2^17, 128 MiB) cost 400 ms, so sign-ins stay quick
 * while partners deliver and the worker runs, at the same resistance to guessing.
 */
import { randomBytes, type ScryptOptions, scrypt, timingSafeEqual } from 'node:crypto';
import { type Algorithm, hash, verify } from '@node-rs/argon2';

/** OWASP's minimum for Argon2id (Password Storage Cheat Sheet): 19 MiB, 2 iterations, 1 lane. */
export const ARGON2_PARAMETERS = { memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;
/** `Algorithm.Argon2id`: a const enum the package only declares, so its value is written here. */
const ARGON2ID = 2 as Algorithm;
const OPTIONS = { algorithm: ARGON2ID, ...ARGON2_PARAMETERS };

// Verified when the user does not exist, so an unknown name costs the same time as a wrong password.
let unknownUserHash: Promise<string> | undefined;

/** Hashes a password for storage, with the current parameters. */
export async function hashPassword(password: string): Promise<string> {
  return hash(password.normalize('NFC'), OPTIONS);
}

/** Checks a password against a stored hash (or, when there is none, spends the same time and fails). */
export async function verifyPassword(password: string, stored: string | undefined): Promise<boolean> {
  const normalized = password.normalize('NFC');
  if (stored === undefined) {
    unknownUserHash ??= hash(randomBytes(16).toString('base64url'), OPTIONS);
    await verify(await unknownUserHash, normalized);
    return false;
  }
  if (stored.startsWith('$argon2id$')) return verify(stored, normalized).catch(() => false);
  return verifyScrypt(normalized, stored);
}

/** The parameters of an Argon2id PHC string, or null for any other hash. */
function argon2Parameters(stored: string): { m: number; t: number; p: number } | null {
  const match = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$/.exec(stored);
  return match ? { m: Number(match[1]), t: Number(match[2]), p: Number(match[3]) } : null;
}

/** Whether a stored hash is scrypt, or Argon2id with weaker parameters than new hashes get. */
export function needsRehash(stored: string): boolean {
  const p = argon2Parameters(stored);
  return (
    !p ||
    p.m < ARGON2_PARAMETERS.memoryCost ||
    p.t < ARGON2_PARAMETERS.timeCost ||
    p.p < ARGON2_PARAMETERS.parallelism
  );
}

// ---------------------------------------------------------------------------------------------
// scrypt: hashes stored before 2026-12-07, verified until their user signs in again
// ---------------------------------------------------------------------------------------------

function deriveScrypt(password: string, salt: Buffer, n: number, r: number, p: number): Promise<Buffer> {
  // scrypt needs 128 * N * r bytes; Node refuses anything over maxmem (32 MiB by default).
  const options: ScryptOptions = { N: n, r, p, maxmem: 256 * n * r + 1024 * 1024 };
  return new Promise((resolve, reject) => {
    scrypt(password, salt, 32, options, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

async function verifyScrypt(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, key] = stored.split('$');
  if (scheme !== 'scrypt' || !n || !r || !p || !salt || !key) return false;
  const expected = Buffer.from(key, 'base64url');
  const actual = await deriveScrypt(
    password,
    Buffer.from(salt, 'base64url'),
    Number(n),
    Number(r),
    Number(p),
  );
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}
