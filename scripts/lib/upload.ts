/**
 * The partner's side of a delivery: a CSV file streamed to `POST /api/v1/signal-batches` from a process of
 * its own (as it runs on another machine), so the measuring process's own event loop stays out of it.
 */
import { spawn } from 'node:child_process';
import { outputOf } from './processes.js';

/** What the API answered: the status and the body as text. */
export interface UploadAnswer {
  status: number;
  body: string;
}

/** The uploader, plain JavaScript for `node -e`: prints the status and body as JSON. 127.0.0.1 only. */
const UPLOADER = `
const { request } = require('node:http');
const { createReadStream, statSync } = require('node:fs');
const [port, token, path] = process.argv.slice(1);
const req = request({ host: '127.0.0.1', port: Number(port), method: 'POST', path: '/api/v1/signal-batches',
  headers: { authorization: 'Bearer ' + token, 'content-type': 'text/csv; charset=utf-8',
    'content-length': statSync(path).size } }, (res) => {
  let body = '';
  res.setEncoding('utf8');
  res.on('data', (c) => { body += c; });
  res.on('end', () => process.stdout.write(JSON.stringify({ status: res.statusCode, body })));
});
req.on('error', (err) => { process.stderr.write(String(err)); process.exit(1); });
createReadStream(path).pipe(req);
`;

/**
 * Streams `path` as a CSV batch to the API on 127.0.0.1:`port` with the partner's bearer `token`; resolves
 * with the answer, rejects when no answer came (connection refused or cut).
 */
export function uploadCsvBatch(port: number, token: string, path: string): Promise<UploadAnswer> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', UPLOADER, String(port), token, path], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const output = outputOf(child);
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(JSON.parse(output.out()) as UploadAnswer);
      else reject(new Error(`upload of ${path} failed: ${output.err().slice(0, 300)}`));
    });
  });
}

/** How one partner's delivery went: the answer's status and counts, or why there was none. */
export interface BatchOutcome<F extends { path: string } = { path: string }> {
  file: F;
  /** HTTP status, or null when no answer came. */
  status: number | null;
  /** ms from `since` to the answer. */
  answeredAfter: number | null;
  /** The counts of a 202 (or of a 413 cut off while streaming). */
  counts: { received: number; accepted: number; rejected: number; duplicate: number } | null;
  /** The body of an answer other than 202 (truncated), or the failure. */
  error: string | null;
}

/** Posts `file` as a CSV batch (see uploadCsvBatch); never rejects: a failed upload is an outcome. */
export async function postCsvBatch<F extends { path: string }>(
  port: number,
  token: string,
  file: F,
  since: number,
): Promise<BatchOutcome<F>> {
  try {
    const answer = await uploadCsvBatch(port, token, file.path);
    const answeredAfter = performance.now() - since;
    let counts: BatchOutcome['counts'] = null;
    try {
      const body = JSON.parse(answer.body) as NonNullable<BatchOutcome['counts']>;
      if (typeof body.accepted === 'number') counts = body;
    } catch {
      // Not JSON: the status says enough.
    }
    const error = answer.status === 202 ? null : answer.body.slice(0, 200);
    return { file, status: answer.status, answeredAfter, counts, error };
  } catch (err) {
    return {
      file,
      status: null,
      answeredAfter: null,
      counts: null,
      error: (err as Error).message.slice(0, 200),
    };
  }
}
