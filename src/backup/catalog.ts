/**
 * The backup directory: `store.dump_YYYYMMDD-HHMMSS` archives (local time, as the seeds' CronJob
 * names them), each with a `.done` sidecar written before the archive is renamed into place. A
 * backup is good only when its sidecar names it and records its exact size (and, when verifying,
 * its SHA-256); anything else — temporary `.partial` files, archives without a sidecar or with a
 * damaged one, size mismatches — is listed but never counted as a backup. Backups are ordered by
 * the instant their sidecar records, not by their names: a name is a local wall time, which a
 * daylight-saving change or another process's time zone puts out of order.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { TEMP_PATTERN } from './atomic-file.ts';

export const BACKUP_PREFIX = 'store.dump_';
const NAME = /^store\.dump_(\d{4})(\d{2})(\d{2})-(\d{2})(\d{2})(\d{2})$/;
export const SIDECAR_SUFFIX = '.done';

export interface Sidecar {
  format: 'astore-backup/1';
  name: string;
  bytes: number;
  sha256: string;
  takenAt: string;
  release: string | undefined;
  keyFingerprint: string | undefined;
  tables: number | undefined;
  rows: number | undefined;
}

export type BackupStatus = 'good' | 'partial' | 'no-sidecar' | 'bad-sidecar' | 'size-mismatch' | 'checksum-mismatch';

export interface BackupEntry {
  name: string;
  path: string;
  /** The instant the sidecar records; from the file name (local time) when there is none. */
  takenAt: Date | undefined;
  bytes: number;
  status: BackupStatus;
  sidecar: Sidecar | undefined;
}

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

export function backupName(at: Date): string {
  return `${BACKUP_PREFIX}${at.getFullYear()}${pad(at.getMonth() + 1)}${pad(at.getDate())}-${pad(at.getHours())}${pad(at.getMinutes())}${pad(at.getSeconds())}`;
}

export function parseBackupName(name: string): Date | undefined {
  const m = NAME.exec(name);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  return new Date(y, mo - 1, d, h, mi, s);
}

export function sidecarPath(backupPath: string): string {
  return backupPath + SIDECAR_SUFFIX;
}

/** The sidecar at `path`: undefined when there is none, 'unreadable' when it is not one a run wrote. */
async function readSidecar(path: string): Promise<Sidecar | 'unreadable' | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT' ? undefined : 'unreadable';
  }
  try {
    const s = JSON.parse(text) as Partial<Sidecar> | null;
    const valid = s !== null && typeof s === 'object' && s.format === 'astore-backup/1' && typeof s.name === 'string'
      && typeof s.bytes === 'number' && typeof s.sha256 === 'string' && typeof s.takenAt === 'string';
    return valid ? (s as Sidecar) : 'unreadable';
  } catch {
    return 'unreadable';
  }
}

export async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

export interface ListOptions {
  /** Recompute each archive's SHA-256 against its sidecar (reads every byte). */
  verify?: boolean;
}

/** Every archive and leftover in the directory, newest first. A missing directory is empty. */
export async function listBackups(dir: string, opts: ListOptions = {}): Promise<BackupEntry[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const out: BackupEntry[] = [];
  for (const name of names) {
    const path = join(dir, name);
    // Only temporary files of scheduled-backup names: `astore backup -o DIR/other-name` may be
    // writing one into the same directory, and is no run of ours.
    if (TEMP_PATTERN.test(name) && NAME.test(name.slice(1, name.lastIndexOf('.partial-')))) {
      const st = await stat(path).catch(() => undefined);
      if (st) out.push({ name, path, takenAt: undefined, bytes: st.size, status: 'partial', sidecar: undefined });
      continue;
    }
    const named = parseBackupName(name);
    if (!named) continue;
    const st = await stat(path).catch(() => undefined);
    if (!st?.isFile()) continue;
    const sidecar = await readSidecar(sidecarPath(path));
    let status: BackupStatus = 'good';
    if (!sidecar) status = 'no-sidecar';
    // A run wrote a sidecar for this file, and it no longer says what the run wrote.
    else if (sidecar === 'unreadable' || sidecar.name !== name) status = 'bad-sidecar';
    else if (sidecar.bytes !== st.size) status = 'size-mismatch';
    else if (opts.verify && (await sha256File(path)) !== sidecar.sha256) status = 'checksum-mismatch';
    const kept = typeof sidecar === 'object' && status !== 'bad-sidecar' ? sidecar : undefined;
    const recorded = kept ? new Date(kept.takenAt) : undefined;
    const takenAt = recorded && !Number.isNaN(recorded.getTime()) ? recorded : named;
    out.push({ name, path, takenAt, bytes: st.size, status, sidecar: kept });
  }
  return out.sort((a, b) => (b.takenAt?.getTime() ?? Infinity) - (a.takenAt?.getTime() ?? Infinity) || b.name.localeCompare(a.name));
}

/** Sidecars whose archive is gone (a run stopped between writing the sidecar and the rename). */
export async function orphanSidecars(dir: string): Promise<string[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const set = new Set(names);
  return names
    .filter((n) => n.endsWith(SIDECAR_SUFFIX) && parseBackupName(n.slice(0, -SIDECAR_SUFFIX.length)) && !set.has(n.slice(0, -SIDECAR_SUFFIX.length)))
    .map((n) => join(dir, n));
}

export function isWeekly(takenAt: Date, weeklyBackupDay: number): boolean {
  return takenAt.getDay() === weeklyBackupDay;
}
