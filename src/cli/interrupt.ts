/**
 * How the CLI ends on SIGINT/SIGTERM without leaving an embedded PostgreSQL it started running.
 * Node's default action ends the process at once; the server, a child process, then ran on with
 * nobody to stop it (a terminal's Ctrl-C reaches it too, but a `kill` of the node process alone,
 * as a supervisor sends, does not).
 */
// The modules themselves, not the store's and backup's indexes: commands that never touch the
// database load this without pg.
import { removeLiveTempFiles } from '../backup/atomic-file.ts';
import { abandonOwnedDatabases } from '../store/owned.ts';

let exiting = false;

/** Whether the process is on its way out after a signal (or a lost stdout). */
export function interrupted(): boolean {
  return exiting;
}

/**
 * Exits with `code` once the embedded server this process started has stopped (at most 10 s),
 * unless another process still uses it. Called again (a second signal), it exits at once.
 */
export function exitStoppingOwnServer(code: number): void {
  if (exiting) process.exit(code);
  exiting = true;
  const limit = new Promise((resolve) => setTimeout(resolve, 10_000).unref());
  void Promise.race([abandonOwnedDatabases(), limit]).finally(() => process.exit(code));
}

const CODES: Partial<Record<NodeJS.Signals, number>> = { SIGINT: 130, SIGTERM: 143 };

/**
 * For signals no command handles: those during a command without a handler of its own, and the
 * second one that serve and train-worker leave to the default. A command's own handler, when
 * present, decides (it was added after this one, so it is still listening).
 */
export function installSignalFallback(): void {
  for (const [signal, code] of Object.entries(CODES) as Array<[NodeJS.Signals, number]>) {
    const listener = (): void => {
      if (process.listeners(signal).some((l) => l !== listener)) return;
      exitStoppingOwnServer(code);
    };
    process.on(signal, listener);
  }
}

/**
 * Ctrl-C or SIGTERM while a file is written through a temporary name (a backup, a SQL script):
 * remove the part written so far (Node's default would end the process and leave it under its
 * temporary name), say so with `what`, and exit 128 + the signal number. Exiting closes the
 * connections (an embedded server this command started is stopped first); PostgreSQL ends a
 * dump's snapshot and releases the run lock.
 */
export function removePartialOnSignal(what: string): void {
  const onSignal = (signal: NodeJS.Signals, code: number): void => {
    const removed = removeLiveTempFiles();
    // Nothing to remove: the file was already complete (or not yet begun), and is left as it is.
    process.stderr.write(`${process.stderr.isTTY ? '\n' : ''}interrupted (${signal})`
      + `${removed.length ? `: ${what}; removed the partial file ${removed.join(', ')}` : ''}\n`);
    exitStoppingOwnServer(code);
  };
  process.once('SIGINT', () => onSignal('SIGINT', 130));
  process.once('SIGTERM', () => onSignal('SIGTERM', 143));
}
