/** File-system helpers the store and the tools around it share. */
import { randomBytes } from 'node:crypto';
import { link, lstat, mkdir, open, readlink, realpath, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { AppError } from '../errors/index.ts';

/**
 * `mkdir -p` that fails instead of spinning. Node 20's `mkdir(dir, { recursive: true })` retries
 * for ever when a directory keeps answering ENOENT although its parent exists (anything under
 * /proc, for one); here each level is tried once after its parent, and the OS error is thrown.
 */
export async function makeDir(dir: string, mode?: number): Promise<void> {
  try {
    await mkdir(dir, { mode });
    return;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return assertDirectory(dir);
    if (code !== 'ENOENT' || dirname(dir) === dir) throw err;
  }
  await makeDir(dirname(dir), mode);
  // Another process may create it between our two attempts.
  await mkdir(dir, { mode }).catch(async (err: NodeJS.ErrnoException) => { if (err.code === 'EEXIST') await assertDirectory(dir); else throw err; });
}

async function assertDirectory(path: string): Promise<void> {
  if (!(await stat(path)).isDirectory()) {
    // Shaped as the OS's own error (syscall included), which the CLI reports with a hint, not a stack.
    throw Object.assign(new Error(`ENOTDIR: not a directory, mkdir '${path}'`), { code: 'ENOTDIR', syscall: 'mkdir', path });
  }
}

/**
 * makeDir for a folder the store cannot work without: a failure is HOME_UNUSABLE saying `what` and
 * `hint`. Created for this user alone: it holds the key file, the embedded server and its log.
 */
export async function makeStoreDir(dir: string, what: string, hint: string): Promise<void> {
  await makeDir(dir, 0o700).catch((err: Error) => {
    throw new AppError('HOME_UNUSABLE', `cannot create ${what}: ${err.message}`, { hint, exitCode: 2, cause: err });
  });
}

/**
 * What writing to `path` means. A regular file, or a name not taken yet, is replaced through a
 * temporary file renamed over it ('file', at the path a symbolic link leads to). Renaming over
 * anything else replaced that instead: `-o /dev/null` run as root turned /dev/null into a root-only
 * regular file (every other program then failed to write to it), a named pipe stopped being one,
 * and a symbolic link was replaced rather than the file it names written. A character device or a
 * named pipe is written into as it is ('stream': it has no contents a torn write could spoil); a
 * directory, block device or socket is for the caller to refuse.
 */
export type OutputTarget =
  | { kind: 'file' | 'stream'; path: string }
  | { kind: 'directory' | 'block device' | 'socket'; path: string };

/** Symbolic links followed at most, as the kernel's own limit (ELOOP). */
const MAX_LINKS = 40;

export async function outputTarget(path: string): Promise<OutputTarget> {
  let st;
  try {
    st = await stat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    return { kind: 'file', path: await danglingTarget(path) };
  }
  if (st.isFile()) return { kind: 'file', path: await realpath(path) };
  if (st.isCharacterDevice() || st.isFIFO()) return { kind: 'stream', path };
  return { kind: st.isDirectory() ? 'directory' : st.isBlockDevice() ? 'block device' : 'socket', path };
}

/** A command's output option, for the errors of outputFile. */
export interface OutputOption {
  /** The AppError code, e.g. BACKUP_TARGET_INVALID. */
  code: string;
  /** What is written, as the message names it: "the backup". */
  what: string;
  /** The output file as the directory hint names it: "the backup file". */
  file: string;
  /** The option and a file name for the directory hint: "-o", "store.dump". */
  option: string;
  example: string;
}

/**
 * outputTarget for a command's output option (`backup -o`, `archive sql -f`): a file or a stream,
 * or an AppError (exit 2) saying why not and what to give instead.
 */
export async function outputFile(path: string, o: OutputOption): Promise<{ kind: 'file' | 'stream'; path: string }> {
  const refuse = (why: string, hint: string, cause?: unknown): AppError =>
    new AppError(o.code, `cannot write ${o.what} to ${path}: ${why}`, { hint, exitCode: 2, cause });
  const target = await outputTarget(path).catch((err: Error) => {
    throw refuse(err.message, 'give a file in a directory you can reach and write', err);
  });
  if (target.kind === 'directory') throw refuse('it is a directory', `give ${o.file}'s own name (${o.option} ${join(path, o.example)})`);
  if (target.kind !== 'file' && target.kind !== 'stream') {
    throw refuse(`it is a ${target.kind}`, `write ${o.what} to a regular file, a character device such as a tape, or a named pipe`);
  }
  return target;
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
  throw Object.assign(new Error(`ELOOP: too many symbolic links, '${path}'`), { code: 'ELOOP', syscall: 'stat', path });
}

/**
 * Replaces `file` all at once: written under a temporary name and fsynced, renamed over the old
 * one, and the directory fsynced so the rename itself survives a crash. Readers see the old
 * content or the new, never a torn file; a failed write leaves the old file and no temporary.
 * A device or named pipe is written into, a link's target replaced (see outputTarget).
 */
export async function writeAtomic(file: string, data: string | Buffer, mode = 0o644): Promise<void> {
  const target = await outputTarget(file);
  if (target.kind === 'stream') return writeFile(target.path, data);
  if (target.kind !== 'file') {
    throw Object.assign(new Error(`${target.kind === 'directory' ? 'EISDIR' : 'EINVAL'}: ${file} is a ${target.kind}, not a file`), {
      code: target.kind === 'directory' ? 'EISDIR' : 'EINVAL', syscall: 'open', path: file,
    });
  }
  const tmp = await writeTemp(target.path, data, mode);
  try {
    await rename(tmp, target.path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  await syncDir(dirname(target.path));
}

/**
 * Writes and fsyncs `data` under a new temporary name beside `file`, and returns that name. The
 * name is created exclusively (O_EXCL): a file or symlink someone placed there is never written
 * through, and never removed (a failure removes only a temporary this call created).
 */
async function writeTemp(file: string, data: string | Buffer, mode: number): Promise<string> {
  const tmp = `${file}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
  try {
    await writeFile(tmp, data, { mode, flush: true, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') await rm(tmp, { force: true });
    throw err;
  }
  return tmp;
}

/**
 * Creates `file` all at once unless it exists: written and fsynced under a temporary name, then
 * hard-linked to its name, which fails when the name is taken. False, and nothing changed, when
 * another file was there first: for a file that must never be replaced (the encryption key),
 * where writeAtomic's rename would overwrite one another process has just created.
 */
export async function createAtomic(file: string, data: string | Buffer, mode = 0o644): Promise<boolean> {
  const tmp = await writeTemp(file, data, mode);
  try {
    await link(tmp, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    await rm(tmp, { force: true });
  }
  await syncDir(dirname(file));
  return true;
}

async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try { await handle.sync(); } finally { await handle.close(); }
}
