// Entry of a render thread (render-pool.ts): loads the TypeScript sources through tsx, as the main thread
// does, then serves render requests.
import { register } from 'tsx/esm/api';

register();
await import('./render-thread-main.ts');
