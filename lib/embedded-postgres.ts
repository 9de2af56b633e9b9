/**
 * The embedded database for `npm start` without DATABASE_URL: PGlite (PostgreSQL compiled to WASM) served
 * over the PostgreSQL wire protocol, so the application talks to it with the same `pg` driver as to a
 * real server. Single-user demo use only; production sets DATABASE_URL.
 */
import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

export interface EmbeddedPostgres {
  url: string;
  stop(): Promise<void>;
}

/** Opens (or creates) the database in `dir` and serves it on 127.0.0.1:`port`. */
export async function startEmbeddedPostgres(dir: string, port: number): Promise<EmbeddedPostgres> {
  mkdirSync(dir, { recursive: true });
  const db = await PGlite.create(dir);
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port, maxConnections: 8 });
  await server.start();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    async stop() {
      await server.stop();
      await db.close();
    },
  };
}
