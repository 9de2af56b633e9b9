/** Demo users for `npm start` (development only): one per role, password printed at start. */
import type { Db } from '../../db/database.js';
import { createUserIfMissing, userExists } from '../../db/repositories/users.js';
import { hashPassword } from './password.js';

export const DEMO_PASSWORD = 'demo-wachtwoord';

export const DEMO_USERS = [
  {
    username: 'medewerker',
    displayName: 'Mila Medewerker',
    roles: ['caseworker'],
    teams: ['schulddienstverlening'],
  },
  { username: 'wijkteam', displayName: 'Wim Wijkteam', roles: ['caseworker'], teams: ['wijkteam'] },
  {
    username: 'teamleider',
    displayName: 'Tara Teamleider',
    roles: ['teamlead', 'caseworker'],
    teams: ['schulddienstverlening'],
  },
  {
    username: 'manager',
    displayName: 'Manon Manager',
    roles: ['manager'],
    teams: ['schulddienstverlening', 'wijkteam'],
  },
  {
    username: 'beheerder',
    displayName: 'Bram Beheerder',
    roles: ['admin'],
    teams: ['schulddienstverlening', 'wijkteam'],
  },
] as const;

/** Creates the demo users that do not exist yet; returns lines to print. */
export async function seedDemoUsers(db: Db): Promise<string[]> {
  for (const u of DEMO_USERS) {
    // A hash takes about a second (password.ts): none for the users a previous start created.
    if (await userExists(db, u.username)) continue;
    await createUserIfMissing(db, {
      username: u.username,
      displayName: u.displayName,
      passwordHash: await hashPassword(DEMO_PASSWORD),
      roles: [...u.roles],
      teams: [...u.teams],
    });
  }
  return [
    `  Demo logins (password "${DEMO_PASSWORD}"):`,
    ...DEMO_USERS.map((u) => `    ${u.username.padEnd(11)} ${u.roles.join(', ')} - ${u.teams.join(', ')}`),
  ];
}
