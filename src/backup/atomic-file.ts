/**
 * A file that appears under its final name only once it is complete: written to a temporary name
 * in the same directory, fsynced, renamed, and the directory fsynced so the rename survives a
 * crash. A killed writer leaves only the temporary name, which no reader treats as a backup.
 */
import { randomBytes } from 'node:crypto';
import { unlinkSync } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** `.NAME.partial-PID-RAND`: hidden, and never matching a backup name. */
export function tempNameFor(finalPath: string): string {
  return join(dirname(finalPath), `.${basename(finalPath)}.partial-${process.pid}-${randomBytes(4).toString('hex')}`);
}

export const TEMP_PATTERN = /^\..+\.partial-\d+-[0-9a-f]+$/;

export async function fsyncDir(dir: string): Promise<void> {
  const h = await open(dir, 'r');
  try { await h.sync(); } finally { await h.close(); }
}

export async function fsyncFile(path: string): Promise<void> {
  const h = await open(path, 'r+');
  try { await h.sync(); } finally { await h.close(); }
}

/** Temporary files of this process not yet renamed or removed, for a signal handler to remove. */
const live = new Set<string>();

/** Removes this process's unfinished temporary files (synchronously: for signal handlers about to exit). */
export function removeLiveTempFiles(): string[] {
  const removed: string[] = [];
  for (const path of live) {
    try { unlinkSync(path); removed.push(path); } catch { /* not created yet, or gone */ }
  }
  live.clear();
  return removed;
}

export class AtomicFile {
  readonly tempPath: string;
  private settled = false;

  constructor(readonly finalPath: string) {
    this.tempPath = tempNameFor(finalPath);
    live.add(this.tempPath);
  }

  /**
   * Call once the temporary file is fully written: fsync, rename into place, fsync the directory.
   * Until the rename has happened a failure removes the temporary file (a later abort() is then a
   * no-op); after it the file is in place under its final name and is left there.
   */
  async commit(beforeRename?: () => Promise<void>): Promise<void> {
    if (this.settled) throw new Error(`${this.finalPath}: already committed or aborted`);
    try {
      await fsyncFile(this.tempPath);
      if (beforeRename) await beforeRename();
      await rename(this.tempPath, this.finalPath);
      live.delete(this.tempPath);
    } catch (err) {
      await this.abort();
      throw err;
    }
    this.settled = true;
    await fsyncDir(dirname(this.finalPath));
  }

  async abort(): Promise<void> {
    if (this.settled) return;
    this.settled = true;
    await unlink(this.tempPath).catch(() => undefined);
    live.delete(this.tempPath);
  }
}
