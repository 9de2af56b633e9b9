/**
 * The user commands of `npm run admin` (bin/admin.ts): the workspace's real accounts, so a production
 * installation needs no demo user. Passwords come from standard input (piped, or typed unseen at a
 * terminal), never from the command line, where `ps` and the shell's history would keep them.
 *   user:add <username> <display name> --roles r1,r2 --teams t1,t2   reads the password from stdin
 *   user:password <username>       reads a new password from stdin; the user's sessions end
 *   user:disable <username>        the user can no longer sign in; their sessions end at once
 *   user:enable <username>
 *   user:signout <username>        ends every session of the user (e.g. a lost laptop)
 *   user:list                      usernames, roles, teams, state and open sessions (never hashes)
 */

import { ROLES, TEAMS } from '../api/auth/index.js';
import { hashPassword } from '../api/auth/password.js';
import type { Db } from '../db/database.js';
import {
  createUserIfMissing,
  endSessionsOf,
  listUsers,
  replacePassword,
  setUserActive,
} from '../db/repositories/users.js';

/** OWASP's guidance for passwords without a second factor: at least 12 characters... */
export const MIN_PASSWORD_LENGTH = 12;
/** ...and a bound, as the hash reads all of it. */
const MAX_PASSWORD_LENGTH = 256;

export const USER_USAGE = `       npm run admin -- user:add <username> <display name> --roles ${ROLES.join(',')} --teams ${TEAMS.join(',')}
       npm run admin -- user:password <username>
       npm run admin -- user:disable|user:enable|user:signout <username>
       npm run admin -- user:list
user:add and user:password read the password from standard input (at least ${MIN_PASSWORD_LENGTH} characters)`;

/** A problem the operator fixes: printed without a stack, exit code 2. */
export class UsageError extends Error {}

/** `--name a,b` among the arguments (removed from them), each value one of `allowed`. */
function listOption(args: string[], name: string, allowed: readonly string[]): string[] {
  const at = args.indexOf(name);
  if (at < 0) throw new UsageError(`${name} is required (any of ${allowed.join(', ')}, comma-separated)`);
  const [value = ''] = args.splice(at, 2).slice(1);
  const values = value
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean);
  const unknown = values.filter((v) => !allowed.includes(v));
  if (values.length === 0 || unknown.length > 0) {
    throw new UsageError(`${name} expects any of ${allowed.join(', ')}, comma-separated`);
  }
  return [...new Set(values)];
}

/** Reads one password: the first line of piped input, or typed at a terminal without echo. */
export async function readPassword(input: NodeJS.ReadStream = process.stdin): Promise<string> {
  if (input.isTTY) {
    process.stderr.write('Password (not shown): ');
    input.setRawMode(true);
    input.resume();
    const typed = await new Promise<string>((resolve, reject) => {
      let chars = '';
      const onData = (chunk: Buffer) => {
        for (const ch of chunk.toString('utf8')) {
          if (ch === '\r' || ch === '\n') {
            input.off('data', onData);
            return resolve(chars);
          }
          if (ch === '\u0003') {
            input.off('data', onData);
            return reject(new UsageError('cancelled'));
          }
          chars = ch === '\u007f' ? chars.slice(0, -1) : chars + ch;
        }
      };
      input.on('data', onData);
    }).finally(() => {
      input.setRawMode(false);
      input.pause();
      process.stderr.write('\n');
    });
    return typed;
  }
  let text = '';
  for await (const chunk of input) text += chunk;
  return text.split(/\r?\n/, 1)[0] ?? '';
}

function checkPassword(password: string): string {
  if (password.length < MIN_PASSWORD_LENGTH) {
    throw new UsageError(`the password must be at least ${MIN_PASSWORD_LENGTH} characters`);
  }
  if (password.length > MAX_PASSWORD_LENGTH) {
    throw new UsageError(`the password must be at most ${MAX_PASSWORD_LENGTH} characters`);
  }
  return password;
}

function username(args: string[]): string {
  const [name] = args;
  if (!name || !/^[a-z0-9][a-z0-9._-]{1,63}$/i.test(name)) {
    throw new UsageError('a username: 2-64 letters, digits, ".", "_" or "-"');
  }
  return name;
}

/** Runs one `user:*` command; returns the lines to print. */
export async function runUserCommand(
  db: Db,
  command: string,
  args: string[],
  password: () => Promise<string> = readPassword,
): Promise<string[]> {
  switch (command) {
    case 'user:add': {
      const roles = listOption(args, '--roles', ROLES);
      const teams = listOption(args, '--teams', TEAMS);
      const name = username(args);
      const displayName = args.slice(1).join(' ').trim();
      if (!displayName) throw new UsageError('a display name after the username, e.g. "Mila de Vries"');
      const hash = await hashPassword(checkPassword(await password()));
      const created = await createUserIfMissing(db, {
        username: name,
        displayName,
        passwordHash: hash,
        roles,
        teams,
      });
      if (!created) throw new UsageError(`user ${name} exists; change it with user:password or user:disable`);
      return [`user ${name} added (${roles.join(', ')}; ${teams.join(', ')})`];
    }
    case 'user:password': {
      const name = username(args);
      const hash = await hashPassword(checkPassword(await password()));
      if (!(await replacePassword(db, name, hash))) throw new UsageError(`no user ${name}`);
      return [`password of ${name} replaced; their sessions ended`];
    }
    case 'user:disable':
    case 'user:enable': {
      const name = username(args);
      const active = command === 'user:enable';
      if (!(await setUserActive(db, name, active))) throw new UsageError(`no user ${name}`);
      return [active ? `user ${name} can sign in again` : `user ${name} disabled; their sessions ended`];
    }
    case 'user:signout': {
      const name = username(args);
      const ended = await endSessionsOf(db, name);
      if (ended === null) throw new UsageError(`no user ${name}`);
      return [`${ended} session(s) of ${name} ended`];
    }
    case 'user:list':
      return (await listUsers(db, new Date())).map(
        (u) =>
          `${u.username.padEnd(16)} ${u.active ? 'active  ' : 'disabled'}  ${u.roles.join(',').padEnd(22)} ` +
          `${u.teams.join(',').padEnd(30)} ${u.sessions} session(s)  ${u.displayName}`,
      );
    default:
      throw new UsageError(`unknown command ${command}`);
  }
}
