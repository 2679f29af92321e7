import type { Command } from 'commander';
import { register as serve } from './serve.ts';
import { register as store } from './store.ts';

/** Each capability registers its commands here; one line per command module. */
export const commands: Array<(program: Command) => void> = [
  serve,
  store,
  (await import('./training.ts')).register,
  (await import('./intents.ts')).register,
  (await import('./restore.ts')).register,
  (await import('./backup.ts')).register,
  (await import('./archive.ts')).register,
];
