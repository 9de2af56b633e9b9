/** Free TCP ports on 127.0.0.1 for the servers a benchmark starts. */
import { createServer, type Server } from 'node:net';

function listenOnAnyPort(): Promise<{ server: Server; port: number }> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve({ server, port: typeof address === 'object' && address ? address.port : 0 });
    });
  });
}

/** `count` distinct free ports: all are held open until each is known, then released together. */
export async function freePorts(count: number): Promise<number[]> {
  const held: Array<{ server: Server; port: number }> = [];
  try {
    for (let i = 0; i < count; i += 1) held.push(await listenOnAnyPort());
    return held.map((h) => h.port);
  } finally {
    await Promise.all(held.map((h) => new Promise<void>((resolve) => h.server.close(() => resolve()))));
  }
}

/** One free port. */
export async function freePort(): Promise<number> {
  const [port] = await freePorts(1);
  return port!;
}
