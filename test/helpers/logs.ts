/** A process logger for tests: the real one (serializers, redaction), writing its JSON lines into memory. */
import { Writable } from 'node:stream';
import { createLogger } from '../../lib/logger.js';

export function memoryLogger() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  const logger = createLogger({ level: 'info', destination });
  const entries = () => lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  return { lines, logger, entries, errors: () => entries().filter((e) => Number(e.level) >= 50) };
}
