/**
 * The embedded PostgreSQL servers this process uses (one it is starting, then the databases opened
 * on them), until they are closed. An exit that cannot wait for the command's own close() (a
 * signal, the reader of stdout gone) abandons them first, so the server stops with the command,
 * unless another process uses it, as it would otherwise: exiting without it left the server
 * running with nobody to stop it.
 *
 * No imports: the CLI entry loads this without the store (and pg) for commands that never use it.
 */
interface Owned { abandon(): Promise<void> }

const open = new Set<Owned>();

export function trackOwned(db: Owned): void {
  open.add(db);
}

export function untrackOwned(db: Owned): void {
  open.delete(db);
}

/**
 * Abandons every tracked database: its server is stopped (unless another process still uses it)
 * without waiting for this process's queries, which the server's shutdown rolls back. For exits on
 * a signal, where the work under way is given up anyway; failures are ignored.
 */
export async function abandonOwnedDatabases(): Promise<void> {
  await Promise.allSettled([...open].map((db) => db.abandon()));
}
