/**
 * `npm start` as a user runs it: no DATABASE_URL and no TEMPORAL_ADDRESS, so it starts the Temporal dev
 * server and the embedded PostgreSQL itself, prints the URLs, answers /health, stops cleanly on Ctrl-C
 * (SIGINT) leaving no process behind, and a second start finds the data of the first.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { embeddedDatabaseUrl } from '../../lib/embedded-postgres.js';
import { freePort } from '../helpers/ports.js';

const dataDir = mkdtempSync(join(tmpdir(), 'vroeg-start-'));
// As root the embedded PostgreSQL runs as the user postgres, which must be able to enter the folder.
chmodSync(dataDir, 0o755);
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

interface Started {
  child: ChildProcess;
  output: () => string;
  exit: Promise<number | null>;
}

function start(
  env: Record<string, string>,
  entry = 'bin/start.ts',
  ready = 'Press Ctrl-C to stop.',
): Promise<Started> {
  const child = spawn(process.execPath, ['--import', 'tsx', entry], {
    env: { ...process.env, DATABASE_URL: '', TEMPORAL_ADDRESS: '', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (c) => {
    output += c;
  });
  child.stderr?.on('data', (c) => {
    output += c;
  });
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not running after 90 s:\n${output}`)), 90_000);
    const check = setInterval(() => {
      if (output.includes(ready)) {
        clearInterval(check);
        clearTimeout(timer);
        resolve({ child, output: () => output, exit });
      }
    }, 100);
    void exit.then((code) => {
      clearInterval(check);
      clearTimeout(timer);
      reject(new Error(`exited with ${code} before running:\n${output}`));
    });
  });
}

/** The running embedded server's application database (its password is kept beside the data folder). */
function embeddedUrl(port: string, dir = dataDir): string {
  const url = embeddedDatabaseUrl(join(dir, 'postgres'), Number(port));
  if (!url) throw new Error('the embedded PostgreSQL was never set up');
  return url;
}

/** Processes whose command line names `dir`: the embedded servers of a start on that folder. */
function processesOn(dir: string): string[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
      } catch {
        return '';
      }
    })
    .filter((commandLine) => commandLine.includes(dir));
}

function portAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

describe('npm start with embedded defaults', () => {
  it('runs everything, stops cleanly on Ctrl-C, and reuses its data on the next start', async () => {
    const ports = {
      HTTP_PORT: String(await freePort()),
      TEMPORAL_DEV_PORT: String(await freePort()),
      TEMPORAL_UI_PORT: String(await freePort()),
      EMBEDDED_DB_PORT: String(await freePort()),
    };
    const env = { ...ports, DATA_DIR: dataDir, TEMPORAL_CLI: inject('temporalCli') };

    const first = await start(env);
    expect(first.output()).toContain(`http://127.0.0.1:${ports.HTTP_PORT}`);
    expect(first.output()).toContain(`Temporal Web UI   http://127.0.0.1:${ports.TEMPORAL_UI_PORT}`);
    const health = await fetch(`http://127.0.0.1:${ports.HTTP_PORT}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok', database: 'ok', temporal: 'ok' });

    // Leave a mark in the embedded database through the ordinary PostgreSQL protocol.
    const client = new pg.Client({ connectionString: embeddedUrl(ports.EMBEDDED_DB_PORT) });
    await client.connect();
    await client.query(`insert into partners (name, partner_type) values ('Waterbedrijf Blijvend', 'Water')`);
    await client.end();

    first.child.kill('SIGINT');
    expect(await first.exit).toBe(0);
    for (const port of Object.values(ports)) expect(await portAnswers(Number(port))).toBe(false);

    const began = Date.now();
    const second = await start(env);
    const secondStartMs = Date.now() - began;
    const again = new pg.Client({ connectionString: embeddedUrl(ports.EMBEDDED_DB_PORT) });
    await again.connect();
    const { rows } = await again.query(`select name from partners where name = 'Waterbedrijf Blijvend'`);
    await again.end();
    expect(rows).toHaveLength(1);
    second.child.kill('SIGINT');
    expect(await second.exit).toBe(0);
    console.log(`second npm start was running after ${secondStartMs} ms`);
  }, 240_000);
});

describe('npm start after a kill -9', () => {
  it('leaves no process behind, is healthy again at the next start, and the open cases go on', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vroeg-crash-'));
    chmodSync(dir, 0o755);
    // Short waits, so a case moves from its letter to a phone call while the test watches.
    const policyFile = join(dir, 'policy.json');
    writeFileSync(policyFile, JSON.stringify({ default: { letterWaitMs: '4s' } }));
    const ports = {
      HTTP_PORT: String(await freePort()),
      TEMPORAL_DEV_PORT: String(await freePort()),
      TEMPORAL_UI_PORT: String(await freePort()),
      EMBEDDED_DB_PORT: String(await freePort()),
      DEMO_SMTP_PORT: String(await freePort()),
    };
    const env = { ...ports, DATA_DIR: dir, TEMPORAL_CLI: inject('temporalCli'), POLICY_FILE: policyFile };
    try {
      const first = await start(env);
      const token = /Demo partner token (\S+)/.exec(first.output())?.[1];
      expect(token).toBeDefined();
      const base = `http://127.0.0.1:${ports.HTTP_PORT}`;
      for (let i = 0; i < 3; i++) {
        const sent = await fetch(`${base}/api/v1/signals`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({
            partnerReference: `CRASH-${i}-${Date.now()}`,
            signalDate: '2026-11-01',
            arrearsSince: '2026-08-15',
            amount: 612,
            resident: { firstNames: 'Tjitske', surname: `Bolhuis${i}`, birthDate: `1970-0${i + 1}-12` },
            address: { postcode: '1761 AB', houseNumber: 20 + i, street: 'Molenweg', city: 'Anna Paulowna' },
          }),
        });
        expect(sent.status).toBe(202);
      }
      const db = new pg.Client({ connectionString: embeddedUrl(ports.EMBEDDED_DB_PORT, dir) });
      await db.connect();
      const count = async (query: string) => Number((await db.query(query)).rows[0].n);
      const until = async (what: () => Promise<boolean>, ms: number) => {
        const deadline = Date.now() + ms;
        while (!(await what())) {
          if (Date.now() > deadline) throw new Error('timed out');
          await new Promise((r) => setTimeout(r, 250));
        }
      };
      // The three cases are open and waiting after their first letter.
      await until(async () => (await count(`select count(*) as n from cases`)) === 3, 30_000);
      await db.end();

      expect(readFileSync(join(dir, 'start.pid'), 'utf8').trim()).toBe(String(first.child.pid));
      first.child.kill('SIGKILL');
      await first.exit;
      // The embedded servers die with the app (their parent-death signal), within a few seconds.
      const killedAt = Date.now();
      while (processesOn(dir).length > 0 && Date.now() - killedAt < 10_000)
        await new Promise((r) => setTimeout(r, 100));
      expect(processesOn(dir)).toEqual([]);

      const began = Date.now();
      const second = await start(env);
      expect((await fetch(`${base}/health`)).status).toBe(200);
      expect(Date.now() - began).toBeLessThan(30_000);
      // The cases go on: each letter wait runs out and a phone call is put in the inbox.
      const again = new pg.Client({ connectionString: embeddedUrl(ports.EMBEDDED_DB_PORT, dir) });
      await again.connect();
      const calls = async () =>
        Number((await again.query(`select count(*) as n from tasks where kind = 'phone'`)).rows[0].n);
      const deadline = Date.now() + 40_000;
      while ((await calls()) < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
      expect(await calls()).toBe(3);
      await again.end();
      second.child.kill('SIGINT');
      expect(await second.exit).toBe(0);
      expect(processesOn(dir)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 240_000);
});

describe('the API alone against existing servers', () => {
  it('connects to the given PostgreSQL and Temporal, starts neither, and stops on SIGTERM', async () => {
    const port = String(await freePort());
    const uiPort = String(await freePort());
    const api = await start(
      {
        HTTP_PORT: port,
        TEMPORAL_UI_PORT: uiPort,
        DATABASE_URL: inject('databaseUrl'),
        TEMPORAL_ADDRESS: inject('temporalAddress'),
        DATA_DIR: dataDir,
        LOG_LEVEL: 'info',
      },
      'bin/api.ts',
      'API listening',
    );
    const health = await fetch(`http://127.0.0.1:${port}/health`);
    expect(await health.json()).toEqual({ status: 'ok', database: 'ok', temporal: 'ok' });
    expect(api.output()).not.toContain('starting the Temporal dev server');
    expect(api.output()).not.toContain('embedded PostgreSQL');
    expect(await portAnswers(Number(uiPort))).toBe(false);
    api.child.kill('SIGTERM');
    expect(await api.exit).toBe(0);
  }, 120_000);
});
