/**
 * The databases this process has open on an embedded PostgreSQL it started itself, until they are
 * closed. An exit that cannot wait for the command's own close() (the CLI ending at once when the
 * reader of its stdout goes away) closes them first, so the server stops with the command as it
 * would otherwise: exiting without it left the server running with nobody to stop it.
 *
 * No imports: the CLI entry loads this without the store (and pg) for commands that never use it.
 */
interface Owned { close(): Promise<void>; abandon(): Promise<void> }

const open = new Set<Owned>();

export function trackOwned(db: Owned): void {
  open.add(db);
}

export function untrackOwned(db: Owned): void {
  open.delete(db);
}

/** Closes every tracked database (stopping its server unless another process still uses it); failures are ignored. */
export async function closeOwnedDatabases(): Promise<void> {
  await Promise.allSettled([...open].map((db) => db.close()));
}

/**
 * Abandons every tracked database: its server is stopped (unless another process still uses it)
 * without waiting for this process's queries, which the server's shutdown rolls back. For exits on
 * a signal, where the work under way is given up anyway; failures are ignored.
 */
export async function abandonOwnedDatabases(): Promise<void> {
  await Promise.allSettled([...open].map((db) => db.abandon()));
}
