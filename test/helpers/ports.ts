/** Free ports for the servers a test starts: the benchmarks' helper (below the ephemeral range). */
export { freePort, freePorts } from '../../scripts/lib/ports.js';
