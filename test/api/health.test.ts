import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { buildServer } from '../../api/server.js';
import { createDatabase } from '../../db/database.js';
import { freePort } from '../helpers/ports.js';

describe('GET /health', () => {
  const db = createDatabase(inject('databaseUrl'), { max: 1 });
  let connection: Connection;
  beforeAll(async () => {
    connection = await Connection.connect({ address: inject('temporalAddress') });
  });
  afterAll(async () => {
    await connection.close();
    await db.destroy();
  });

  const app = (database = db, temporal = new Client({ connection })) =>
    buildServer({ db: database, temporal, taskQueue: 't', municipality: 'GM1911' });

  it('answers ok when PostgreSQL and Temporal are reachable', async () => {
    const server = await app();
    const res = await server.inject({ method: 'GET', url: '/health' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok', database: 'ok', temporal: 'ok' });
    await server.close();
  });

  it('answers 503 naming the database when its port does not answer', async () => {
    const dead = createDatabase(`postgres://postgres@127.0.0.1:${await freePort()}/nothing`, { max: 1 });
    const server = await app(dead);
    const res = await server.inject({ method: 'GET', url: '/health' });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toEqual({ status: 'degraded', database: 'unreachable', temporal: 'ok' });
    await server.close();
    await dead.destroy();
  });

  it('answers 503 naming Temporal when its server does not answer', async () => {
    const lazy = Connection.lazy({ address: `127.0.0.1:${await freePort()}` });
    const server = await app(db, new Client({ connection: lazy }));
    const res = await server.inject({ method: 'GET', url: '/health' });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toEqual({ status: 'degraded', database: 'ok', temporal: 'unreachable' });
    await server.close();
  });
});
