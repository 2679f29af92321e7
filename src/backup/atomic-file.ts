/**
 * A file that appears under its final name only once it is complete: written to a temporary name
 * in the same directory, fsynced, renamed, and the directory fsynced so the rename survives a
 * crash. A killed writer leaves only the temporary name, which no reader treats as a backup.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Transform, type TransformCallback } from 'node:stream';

/** `.NAME.partial-PID-RAND`: hidden, and never matching a backup name. */
export function tempNameFor(finalPath: string): string {
  return join(dirname(finalPath), `.${basename(finalPath)}.partial-${process.pid}-${randomBytes(4).toString('hex')}`);
}

export const TEMP_PATTERN = /^\..+\.partial-\d+-[0-9a-f]+$/;

export async function fsyncDir(dir: string): Promise<void> {
  const h = await open(dir, 'r');
  try { await h.sync(); } finally { await h.close(); }
}

/** Counts and hashes the bytes passing through. */
export class Meter extends Transform {
  bytes = 0;
  private readonly hash = createHash('sha256');
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.bytes += chunk.length;
    this.hash.update(chunk);
    cb(null, chunk);
  }
  digest(): string { return this.hash.digest('hex'); }
}

export class AtomicFile {
  readonly tempPath: string;
  readonly stream: WriteStream;
  private settled = false;

  constructor(readonly finalPath: string, mode = 0o600) {
    this.tempPath = tempNameFor(finalPath);
    // 'wx': never clobber (the temp name is unique; a clash means something is badly wrong).
    this.stream = createWriteStream(this.tempPath, { flags: 'wx', mode });
  }

  /** Call after the stream has finished: fsync, rename into place, fsync the directory. */
  async commit(beforeRename?: () => Promise<void>): Promise<void> {
    this.settled = true;
    const h = await open(this.tempPath, 'r+');
    try { await h.sync(); } finally { await h.close(); }
    if (beforeRename) await beforeRename();
    await rename(this.tempPath, this.finalPath);
    await fsyncDir(dirname(this.finalPath));
  }

  async abort(): Promise<void> {
    if (this.settled) return;
    this.settled = true;
    if (!this.stream.destroyed) this.stream.destroy();
    await new Promise<void>((r) => { if (this.stream.closed) r(); else this.stream.once('close', () => r()); });
    await unlink(this.tempPath).catch(() => undefined);
  }
}
