import type { Command } from 'commander';
import { register as archive } from './archive.ts';
import { register as backup } from './backup.ts';
import { register as intents } from './intents.ts';
import { register as restore } from './restore.ts';
import { register as serve } from './serve.ts';
import { register as store } from './store.ts';
import { register as training } from './training.ts';

/** Each capability registers its commands here; one line per command module. */
export const commands: Array<(program: Command) => void> = [
  serve,
  store,
  training,
  intents,
  backup,
  restore,
  archive,
];
