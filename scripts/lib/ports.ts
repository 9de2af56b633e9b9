/**
 * Free TCP ports on 127.0.0.1 for the servers a benchmark or test starts. They are taken below Linux's
 * ephemeral range (32768-60999 by default), where outgoing connections take their local ports: a port
 * from `listen(0)` comes from that range, and a client socket could take it before the server under test
 * binds it ("Address already in use").
 */
import { createServer, type Server } from 'node:net';

const LOW = 20_000;
const HIGH = 32_000;

function hold(port: number): Promise<Server | null> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(null));
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

/** `count` distinct free ports: all are held open until each is known, then released together. */
export async function freePorts(count: number): Promise<number[]> {
  const held = new Map<number, Server>();
  try {
    for (let tries = 0; held.size < count; tries += 1) {
      if (tries > 100 * count) throw new Error(`no ${count} free ports between ${LOW} and ${HIGH}`);
      const port = LOW + Math.floor(Math.random() * (HIGH - LOW));
      if (held.has(port)) continue;
      const server = await hold(port);
      if (server) held.set(port, server);
    }
    return [...held.keys()];
  } finally {
    await Promise.all(
      [...held.values()].map((s) => new Promise<void>((resolve) => s.close(() => resolve()))),
    );
  }
}

/** One free port. */
export async function freePort(): Promise<number> {
  const [port] = await freePorts(1);
  return port!;
}
