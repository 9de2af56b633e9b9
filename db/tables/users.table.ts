import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';

/** A municipal employee who signs in to the workspace; `password_hash` is an scrypt hash string. */
export interface UsersTable {
  id: Generated<string>;
  username: string;
  display_name: string;
  password_hash: string;
  /** Any of 'caseworker', 'teamlead', 'manager', 'admin'. */
  roles: string[];
  /** Teams whose cases and tasks the user may see ('schulddienstverlening', 'wijkteam'). */
  teams: string[];
  active: Generated<boolean>;
  created_at: ColumnType<Date, Date | undefined, never>;
}
export type User = Selectable<UsersTable>;
export type NewUser = Insertable<UsersTable>;

/** A browser session; the cookie holds the secret, the table only its SHA-256. */
export interface UserSessionsTable {
  id_hash: string;
  user_id: string;
  csrf_token: string;
  created_at: ColumnType<Date, Date | undefined, never>;
  /** End of the idle timeout, moved on by use; never past `created_at` plus the absolute lifetime. */
  expires_at: Date;
}
export type UserSession = Selectable<UserSessionsTable>;

/** Failed sign-ins per login name (whether or not a user has it) and the lock they caused. */
export interface LoginThrottleTable {
  username: string;
  failures: Generated<number>;
  locked_until: Date | null;
  lock_failures: number | null;
  last_failure_at: Generated<Date>;
}
