/**
 * How the CLI ends on SIGINT/SIGTERM without leaving an embedded PostgreSQL it started running.
 * Node's default action ends the process at once; the server, a child process, then ran on with
 * nobody to stop it (a terminal's Ctrl-C reaches it too, but a `kill` of the node process alone,
 * as a supervisor sends, does not).
 */
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
