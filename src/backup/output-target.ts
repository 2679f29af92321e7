/**
 * What `astore backup -o PATH` writes to. A regular file, or a new name, is written through a
 * temporary file renamed over it (atomic-file.ts). Renaming over anything else replaced it:
 * `-o /dev/null` run as root turned /dev/null into a root-only regular file (every other program
 * on the machine then failed to write to it), a named pipe stopped being one, and a symbolic link
 * was replaced by the backup instead of the file it names receiving it. So a link is followed to
 * the file it names, a character device or a named pipe is written into as a stream (it has no
 * contents a half-written backup could spoil), and a directory or any other kind of file is
 * refused before anything is dumped.
 */
import { lstat, readlink, realpath, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { AppError } from '../errors/index.ts';

export type OutputTarget =
  /** Written atomically under `path` (a symbolic link's target, where the name given is one). */
  | { kind: 'file'; path: string }
  /** Opened and written as it is: a character device (/dev/null, a tape) or a named pipe. */
  | { kind: 'stream'; path: string };

/** Symbolic links followed at most, as the kernel's own limit (ELOOP). */
const MAX_LINKS = 40;

function refused(path: string, what: string, hint: string): AppError {
  return new AppError('BACKUP_TARGET_INVALID', `cannot write the backup to ${path}: it is ${what}`, { hint, exitCode: 2 });
}

export async function outputTarget(path: string): Promise<OutputTarget> {
  let st;
  try {
    st = await stat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw refused(path, `not reachable (${(err as Error).message})`, 'give a file in a directory you can reach and write');
    return { kind: 'file', path: await danglingTarget(path) };
  }
  if (st.isFile()) return { kind: 'file', path: await realpath(path) };
  if (st.isCharacterDevice() || st.isFIFO()) return { kind: 'stream', path };
  if (st.isDirectory()) throw refused(path, 'a directory', `give the backup file's own name (-o ${join(path, 'store.dump')})`);
  throw refused(path, st.isBlockDevice() ? 'a block device' : 'a socket', 'write the backup to a regular file, a character device such as a tape, or a named pipe');
}

/** The name a path that does not exist yet resolves to: itself, or where its (dangling) links lead. */
async function danglingTarget(path: string): Promise<string> {
  let at = path;
  for (let hops = 0; hops < MAX_LINKS; hops++) {
    try {
      if (!(await lstat(at)).isSymbolicLink()) return at;
    } catch {
      return at; // no such name: the file to create
    }
    at = resolve(dirname(at), await readlink(at));
  }
  throw refused(path, `a chain of more than ${MAX_LINKS} symbolic links`, 'give the backup file\'s own path');
}
