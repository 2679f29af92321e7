/**
 * A restore in a child process, for the SIGKILL tests: runs `restore()` with the options in
 * argv[2] (JSON) and, at the point named by `stopAt`, prints "stopped" and waits to be killed.
 * `stopAt` is a number of loaded tables, "swap" (everything staged, swap not yet done) or
 * "never" (the parent picks its moment by watching the server).
 */
import { restore, type RestoreOptions } from '../../src/restore/index.ts';

const { stopAt, ...options } = JSON.parse(process.argv[2]!) as RestoreOptions & { stopAt: number | 'swap' | 'never' };
const stop = async (): Promise<void> => {
  process.stdout.write('stopped\n');
  // Keeps the process (and its COPY connection) alive until the parent kills it.
  await new Promise(() => setInterval(() => undefined, 60_000));
};
let tables = 0;
await restore({
  ...options,
  afterTable: async () => { if (++tables === stopAt) await stop(); },
  beforeSwap: async () => { if (stopAt === 'swap') await stop(); },
});
process.stdout.write('finished\n');
