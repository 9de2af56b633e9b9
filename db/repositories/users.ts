/**
 * Users of the workspace and their browser sessions. Passwords arrive here already hashed
 * (`api/auth/password.ts`); session ids arrive as their SHA-256 so the table never holds a usable cookie.
 */
import { sql } from 'kysely';
import type { Db } from '../database.js';
import type { User } from '../tables/users.table.js';

/** An active user by login name, or undefined. */
export async function findActiveUserByUsername(db: Db, username: string): Promise<User | undefined> {
  return db
    .selectFrom('users')
    .selectAll()
    .where('username', '=', username)
    .where('active', '=', true)
    .executeTakeFirst();
}

export interface UserInput {
  username: string;
  displayName: string;
  passwordHash: string;
  roles: string[];
  teams: string[];
}

/** Creates a user unless the login name exists; returns whether it was created. */
export async function createUserIfMissing(db: Db, input: UserInput): Promise<boolean> {
  const row = await db
    .insertInto('users')
    .values({
      username: input.username,
      display_name: input.displayName,
      password_hash: input.passwordHash,
      roles: input.roles,
      teams: input.teams,
    })
    .onConflict((oc) => oc.column('username').doNothing())
    .returning('id')
    .executeTakeFirst();
  return row !== undefined;
}

/** Whether a login name is taken. */
export async function userExists(db: Db, username: string): Promise<boolean> {
  const row = await db.selectFrom('users').select('id').where('username', '=', username).executeTakeFirst();
  return row !== undefined;
}

/** Replaces a user's password hash (e.g. with stronger parameters after a sign-in). */
export async function setPasswordHash(db: Db, userId: string, passwordHash: string): Promise<void> {
  await db.updateTable('users').set({ password_hash: passwordHash }).where('id', '=', userId).execute();
}

/** Stores a new session. */
export async function insertSession(
  db: Db,
  session: { idHash: string; userId: string; csrfToken: string; createdAt: Date; expiresAt: Date },
): Promise<void> {
  await db
    .insertInto('user_sessions')
    .values({
      id_hash: session.idHash,
      user_id: session.userId,
      csrf_token: session.csrfToken,
      created_at: session.createdAt,
      expires_at: session.expiresAt,
    })
    .execute();
}

/** The unexpired session with this id hash and its (active) user. */
export async function findSession(db: Db, idHash: string, now: Date) {
  return db
    .selectFrom('user_sessions')
    .innerJoin('users', 'users.id', 'user_sessions.user_id')
    .select([
      'users.id as userId',
      'users.username',
      'users.display_name as displayName',
      'users.roles',
      'users.teams',
      'user_sessions.csrf_token as csrfToken',
      'user_sessions.created_at as createdAt',
      'user_sessions.expires_at as expiresAt',
    ])
    .where('user_sessions.id_hash', '=', idHash)
    .where('user_sessions.expires_at', '>', now)
    .where('users.active', '=', true)
    .executeTakeFirst();
}

/** Moves a session's expiry (its idle timeout starting again); an expired session stays expired. */
export async function moveSessionExpiry(db: Db, idHash: string, expiresAt: Date, now: Date): Promise<void> {
  await db
    .updateTable('user_sessions')
    .set({ expires_at: expiresAt })
    .where('id_hash', '=', idHash)
    .where('expires_at', '>', now)
    .execute();
}

/** Ends a session (logout). */
export async function deleteSession(db: Db, idHash: string): Promise<void> {
  await db.deleteFrom('user_sessions').where('id_hash', '=', idHash).execute();
}

/** Removes expired sessions; returns how many. */
export async function deleteExpiredSessions(db: Db, now: Date): Promise<number> {
  const result = await db.deleteFrom('user_sessions').where('expires_at', '<=', now).executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** Display names of the given users (for "assigned to" columns). */
export async function displayNames(db: Db, usernames: string[]): Promise<Map<string, string>> {
  if (usernames.length === 0) return new Map();
  const rows = await db
    .selectFrom('users')
    .select(['username', 'display_name'])
    .where('username', 'in', usernames)
    .execute();
  return new Map(rows.map((r) => [r.username, r.display_name]));
}

/** Every user, for `npm run admin -- user:list` (no password hashes), with their open sessions. */
export async function listUsers(db: Db, now: Date) {
  return db
    .selectFrom('users')
    .leftJoin('user_sessions', (join) =>
      join.onRef('user_sessions.user_id', '=', 'users.id').on('user_sessions.expires_at', '>', now),
    )
    .select((eb) => [
      'users.username',
      'users.display_name as displayName',
      'users.roles',
      'users.teams',
      'users.active',
      'users.created_at as createdAt',
      eb.fn.count<string>('user_sessions.id_hash').as('sessions'),
    ])
    .groupBy('users.id')
    .orderBy('users.username')
    .execute();
}

/**
 * Sets whether a user may sign in; a disabled user's sessions end at once. Returns whether the user
 * exists.
 */
export async function setUserActive(db: Db, username: string, active: boolean): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    const user = await trx
      .updateTable('users')
      .set({ active })
      .where('username', '=', username)
      .returning('id')
      .executeTakeFirst();
    if (!user) return false;
    if (!active) await trx.deleteFrom('user_sessions').where('user_id', '=', user.id).execute();
    return true;
  });
}

/**
 * Replaces a user's password by login name, ends their sessions and lifts a sign-in lock; returns whether
 * the user exists.
 */
export async function replacePassword(db: Db, username: string, passwordHash: string): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    const user = await trx
      .updateTable('users')
      .set({ password_hash: passwordHash })
      .where('username', '=', username)
      .returning('id')
      .executeTakeFirst();
    if (!user) return false;
    await trx.deleteFrom('user_sessions').where('user_id', '=', user.id).execute();
    // A new password from the administrator also lifts a lock from failed sign-ins.
    await trx.deleteFrom('login_throttle').where('username', '=', username.toLowerCase()).execute();
    return true;
  });
}

/** Ends every session of a user (signed out everywhere); returns how many, or null for no such user. */
export async function endSessionsOf(db: Db, username: string): Promise<number | null> {
  const user = await db.selectFrom('users').select('id').where('username', '=', username).executeTakeFirst();
  if (!user) return null;
  const result = await db.deleteFrom('user_sessions').where('user_id', '=', user.id).executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** Failures allowed per login name before it locks; each further failure doubles the lock. */
export const LOGIN_FAILURES_BEFORE_LOCK = 5;
const FIRST_LOCK_MS = 60_000;
const LONGEST_LOCK_MS = 60 * 60_000;

/** What a sign-in attempt may do: check the password, or be refused until `lockedUntil`. */
export type LoginAttempt =
  | { check: true; attempt: number }
  | { check: false; attempt: number; lockedUntil: Date };

/**
 * Counts a sign-in attempt for a login name before its password is checked, in one statement, so that
 * attempts arriving together cannot all pass the lock: the first LOGIN_FAILURES_BEFORE_LOCK attempts are
 * checked, then after each lock only the one attempt that follows it. Any other attempt is refused
 * unchecked and extends the lock. A successful sign-in removes the count (`clearLoginFailures`).
 */
export async function beginLoginAttempt(db: Db, username: string, now: Date): Promise<LoginAttempt> {
  const name = username.toLowerCase();
  // `returning` shows the row after the update: the count including this attempt, the lock before it.
  const row = await db
    .insertInto('login_throttle')
    .values({ username: name, failures: 1, last_failure_at: now })
    .onConflict((oc) =>
      oc.column('username').doUpdateSet((eb) => ({
        failures: eb('login_throttle.failures', '+', 1),
        last_failure_at: now,
      })),
    )
    .returning(['failures', 'locked_until', 'lock_failures'])
    .executeTakeFirstOrThrow();
  const attempt = row.failures;
  const lockedNow = row.locked_until !== null && row.locked_until > now;
  const allowed =
    row.locked_until === null
      ? attempt <= LOGIN_FAILURES_BEFORE_LOCK
      : attempt <= (row.lock_failures ?? 0) + 1;
  if (!lockedNow && allowed) return { check: true, attempt };
  return { check: false, attempt, lockedUntil: await lockLogin(db, name, now, attempt) };
}

/**
 * Locks a login name after its `attempt`-th attempt failed or was refused: a minute from the fifth, doubling
 * with each further one up to an hour, never shortening a lock already set. Returns the lock's end.
 */
export async function lockLogin(db: Db, username: string, now: Date, attempt: number): Promise<Date> {
  const over = Math.max(0, attempt - LOGIN_FAILURES_BEFORE_LOCK);
  const until = new Date(now.getTime() + Math.min(FIRST_LOCK_MS * 2 ** over, LONGEST_LOCK_MS));
  const row = await db
    .updateTable('login_throttle')
    .set((eb) => ({
      locked_until: sql<Date>`greatest(coalesce(${eb.ref('locked_until')}, ${until}), ${until})`,
      lock_failures: sql<number>`greatest(coalesce(${eb.ref('lock_failures')}, 0), ${attempt})`,
    }))
    .where('username', '=', username.toLowerCase())
    .returning('locked_until')
    .executeTakeFirst();
  return row?.locked_until ?? until;
}

/** A successful sign-in forgets the name's failures; names nobody tried for a day are purged. */
export async function clearLoginFailures(db: Db, username: string, now: Date): Promise<void> {
  await db
    .deleteFrom('login_throttle')
    .where((eb) =>
      eb.or([
        eb('username', '=', username.toLowerCase()),
        eb('last_failure_at', '<', new Date(now.getTime() - 24 * 3_600_000)),
      ]),
    )
    .execute();
}
