/**
 * Letters rendered off the main thread. Drawing a PDF takes about 14 ms of CPU (bench:letters); on the
 * thread that also parses partners' deliveries, answers pages and runs activities, a month's letters would
 * starve all of those. A small pool of worker threads renders instead, one document at a time each; the
 * inputs and PDFs are plain data (the template filled in, the addressee, the municipality's settings).
 */
import { Worker } from 'node:worker_threads';
import type { RenderInput } from './render-pdf.js';

export interface RenderPool {
  render(input: RenderInput): Promise<Buffer>;
  close(): Promise<void>;
}

interface Pending {
  worker: Worker;
  resolve(pdf: Buffer): void;
  reject(err: Error): void;
}

/** Starts `size` render threads (default 1: the machine's other core serves Temporal and PostgreSQL). */
export function createRenderPool(size = 1): RenderPool {
  const pending = new Map<number, Pending>();
  const load = new Map<Worker, number>();
  let next = 0;
  let closed = false;
  const start = (): Worker => {
    const worker = new Worker(new URL('./render-thread.mjs', import.meta.url));
    worker.on('message', (answer: { id: number; pdf?: Uint8Array; error?: string }) => {
      const waiting = pending.get(answer.id);
      pending.delete(answer.id);
      load.set(worker, (load.get(worker) ?? 1) - 1);
      if (!waiting) return;
      if (answer.pdf)
        waiting.resolve(Buffer.from(answer.pdf.buffer, answer.pdf.byteOffset, answer.pdf.byteLength));
      else waiting.reject(new Error(`rendering failed: ${answer.error ?? 'unknown error'}`));
    });
    worker.on('exit', () => {
      // A thread that died fails its requests (the activity retries them); a new thread takes its place.
      for (const [id, waiting] of pending) {
        if (waiting.worker !== worker) continue;
        pending.delete(id);
        waiting.reject(new Error('the render thread stopped'));
      }
      load.delete(worker);
      if (!closed) load.set(start(), 0);
    });
    worker.on('error', () => {});
    // Never keeps the process alive on its own.
    worker.unref();
    return worker;
  };
  for (let i = 0; i < Math.max(1, size); i++) load.set(start(), 0);
  return {
    render(input) {
      if (closed) return Promise.reject(new Error('the render pool is closed'));
      // The least busy thread.
      const [worker] = [...load.entries()].sort((a, b) => a[1] - b[1])[0] ?? [];
      if (!worker) return Promise.reject(new Error('no render thread'));
      const id = next++;
      load.set(worker, (load.get(worker) ?? 0) + 1);
      return new Promise<Buffer>((resolve, reject) => {
        pending.set(id, { worker, resolve, reject });
        worker.postMessage({ id, input });
      });
    },
    async close() {
      closed = true;
      for (const waiting of pending.values()) waiting.reject(new Error('the render pool is closed'));
      pending.clear();
      await Promise.all([...load.keys()].map((w) => w.terminate()));
    },
  };
}
