/**
 * The seeds' pgmig replaces the target's data without asking. This one asks on a terminal (the
 * seeds run it with `oc exec -it`) and, without one, wants -f: a store's data is erased only on an
 * answer typed for it.
 */
import { createInterface } from 'node:readline/promises';
import { AppError } from '../errors/index.ts';

/** Resolves once "yes" is typed; any other answer, Ctrl-C or the end of input aborts with nothing changed. */
export async function confirmErase(workspaces: number, input: NodeJS.ReadableStream): Promise<void> {
  const rl = createInterface({ input, output: process.stderr });
  rl.on('SIGINT', () => rl.close());
  const lines = rl[Symbol.asyncIterator]();
  try {
    process.stderr.write(`\nThe target store holds ${workspaces} workspace(s). The restore replaces all of its data with the backup's,\n`
      + 'in every instance (as the seeds\' pgmig does); back it up first if you may need it.\n');
    rl.setPrompt('Type "yes" to replace it: ');
    rl.prompt();
    const next = await lines.next();
    if (!next.done && String(next.value).trim().toLowerCase() === 'yes') return;
  } finally {
    rl.close();
  }
  throw new AppError('RESTORE_ABORTED', 'the target\'s data was not confirmed for replacement; nothing was changed', {
    hint: 'back the target up (astore backup) if you may need it, then run pgmig again and answer "yes", or pass -f/--force',
    exitCode: 8,
  });
}
