/** `npm run temporal:ensure`: finds or builds the Temporal CLI and prints its path (used by .ci/run). */
import { ensureTemporalCli } from '../lib/temporal-cli.js';

try {
  const path = await ensureTemporalCli();
  process.stdout.write(`${path}\n`);
} catch (err) {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
