/**
 * `npm start` as a user runs it: no DATABASE_URL and no TEMPORAL_ADDRESS, so it starts the Temporal dev
 * server and the embedded PostgreSQL itself, prints the URLs, answers /health, stops cleanly on Ctrl-C
 * (SIGINT) leaving no process behind, and a second start finds the data of the first.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { freePort } from '../helpers/ports.js';

const dataDir = mkdtempSync(join(tmpdir(), 'vroeg-start-'));
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
    const client = new pg.Client({
      connectionString: `postgres://postgres@127.0.0.1:${ports.EMBEDDED_DB_PORT}/postgres`,
    });
    await client.connect();
    await client.query(`insert into partners (name, partner_type) values ('Waterbedrijf Blijvend', 'Water')`);
    await client.end();

    first.child.kill('SIGINT');
    expect(await first.exit).toBe(0);
    for (const port of Object.values(ports)) expect(await portAnswers(Number(port))).toBe(false);

    const began = Date.now();
    const second = await start(env);
    const secondStartMs = Date.now() - began;
    const again = new pg.Client({
      connectionString: `postgres://postgres@127.0.0.1:${ports.EMBEDDED_DB_PORT}/postgres`,
    });
    await again.connect();
    const { rows } = await again.query(`select name from partners where name = 'Waterbedrijf Blijvend'`);
    await again.end();
    expect(rows).toHaveLength(1);
    second.child.kill('SIGINT');
    expect(await second.exit).toBe(0);
    console.log(`second npm start was running after ${secondStartMs} ms`);
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
