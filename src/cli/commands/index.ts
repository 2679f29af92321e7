import type { Command } from 'commander';

/** Each capability registers its commands here; one line per command module. */
export const commands: Array<(program: Command) => void> = [
  (await import('./intents.ts')).register,
];
