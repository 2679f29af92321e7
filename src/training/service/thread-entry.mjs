// Worker threads do not inherit the parent's TypeScript loader; register it, then load the thread.
import { register } from 'tsx/esm/api';
register();
await import('./thread.ts');
