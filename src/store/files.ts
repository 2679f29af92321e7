/** File-system helpers the store and the tools around it share. */
import { mkdir, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
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
    throw Object.assign(new Error(`ENOTDIR: not a directory, mkdir '${path}'`), { code: 'ENOTDIR', path });
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
