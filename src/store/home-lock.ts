/**
 * One process at a time sets up and starts the embedded PostgreSQL of a home. Two first runs at
 * once (`npm start` and a command in another shell, two pods on one volume) each wrote their own
 * password into postgres.yaml and ran initdb on the same folder, and one of them failed. The lock
 * is a file created exclusively, naming its holder; one whose holder is gone (killed) is taken over.
 */
import { open, readFile, rm, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { AppError } from '../errors/index.ts';
import { isAlive } from './embedded.ts';

const LOCK_FILE = '.astore-start.lock';
/** A holder on another machine cannot be asked whether it lives: its lock counts as stale after this. */
const FOREIGN_STALE_MS = 10 * 60_000;

async function stale(file: string): Promise<boolean> {
  let text: string;
  let mtimeMs: number;
  try {
    [text, { mtimeMs }] = await Promise.all([readFile(file, 'utf8'), stat(file)]);
  } catch {
    return false; // gone already, or being written: try again
  }
  const [host, pid] = text.trim().split(' ');
  if (host === hostname() && Number(pid) > 0) return !isAlive(Number(pid));
  // Half-written by a holder that died at once, or held on another machine.
  return Date.now() - mtimeMs > (host ? FOREIGN_STALE_MS : 5_000);
}

/**
 * Removes a stale lock, one process at a time (under `${file}.takeover`), judging it again once
 * alone: each process that found it stale removed it, so a later one removed the lock another had
 * just taken over and created, and both held the lock at once. False when another process is
 * taking it over: wait, and look again.
 */
async function takeOver(file: string): Promise<boolean> {
  const guard = `${file}.takeover`;
  try {
    await (await open(guard, 'wx', 0o600)).close();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    // A takeover lasts milliseconds: a guard this old was left by a process that died in one.
    const age = await stat(guard).then((st) => Date.now() - st.mtimeMs, () => 0);
    if (age > 5_000) await rm(guard, { force: true });
    return false;
  }
  try {
    if (await stale(file)) await rm(file, { force: true });
    return true;
  } finally {
    await rm(guard, { force: true });
  }
}

export async function withHomeLock<T>(home: string, fn: () => Promise<T>, timeoutMs = 180_000): Promise<T> {
  const file = join(home, LOCK_FILE);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const handle = await open(file, 'wx', 0o600);
      try { await handle.writeFile(`${hostname()} ${process.pid}\n`); } finally { await handle.close(); }
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    if (await stale(file) && await takeOver(file)) continue;
    if (Date.now() > deadline) {
      throw new AppError('EMBEDDED_PG_BUSY', `another process has been starting the embedded PostgreSQL of ${home} for ${Math.round(timeoutMs / 1000)} s`, {
        hint: `if no astore process is running for this ASTORE_HOME, remove ${file}`, exitCode: 3,
      });
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  try {
    return await fn();
  } finally {
    await rm(file, { force: true });
  }
}
