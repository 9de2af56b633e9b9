/** A render thread's loop: renders each document it is sent and answers with its PDF (render-pool.ts). */
import { parentPort } from 'node:worker_threads';
import { type RenderInput, renderPdf } from './render-pdf.js';

if (!parentPort) throw new Error('render-thread-main.ts runs only as a worker thread');
const port = parentPort;
port.on('message', (request: { id: number; input: RenderInput }) => {
  // Through a promise, so an input it cannot draw fails that request, never the thread.
  Promise.resolve(request.input)
    .then(renderPdf)
    .then(
      (pdf) => port.postMessage({ id: request.id, pdf }),
      (err: unknown) =>
        port.postMessage({ id: request.id, error: err instanceof Error ? err.message : String(err) }),
    );
});
