/**
 * File retention by the seeds' rule: keep the newest `keep_weekly` good backups taken on
 * `weekly_backup_day` and the newest `keep_daily` good backups taken on any other day. Only good
 * backups count and only good backups are removed by the rule; the newest good backup is always
 * kept whatever the limits say. Leftovers of interrupted runs (temporary files, orphan sidecars)
 * are removed — callers hold the backup lock, so no run can be writing them.
 */
import { unlink } from 'node:fs/promises';
import { isWeekly, listBackups, orphanSidecars, sidecarPath, type BackupEntry } from './catalog.ts';

export interface RetentionLimits { weeklyBackupDay: number; keepWeekly: number; keepDaily: number }

export interface RetentionPlan { keep: BackupEntry[]; remove: BackupEntry[] }

export function planRetention(entries: readonly BackupEntry[], limits: RetentionLimits): RetentionPlan {
  const good = entries.filter((e) => e.status === 'good' && e.takenAt)
    .sort((a, b) => b.takenAt!.getTime() - a.takenAt!.getTime());
  const keep = new Set<BackupEntry>(good.slice(0, 1));
  let weekly = 0;
  let daily = 0;
  for (const e of good) {
    if (isWeekly(e.takenAt!, limits.weeklyBackupDay)) {
      if (weekly++ < limits.keepWeekly) keep.add(e);
    } else if (daily++ < limits.keepDaily) {
      keep.add(e);
    }
  }
  return { keep: good.filter((e) => keep.has(e)), remove: good.filter((e) => !keep.has(e)) };
}

export interface RetentionResult { kept: string[]; removed: string[]; cleaned: string[] }

export async function applyRetention(dir: string, limits: RetentionLimits): Promise<RetentionResult> {
  const plan = planRetention(await listBackups(dir), limits);
  for (const e of plan.remove) {
    // Archive first: a stop in between leaves an orphan sidecar (cleaned next time), never an
    // archive whose sidecar is gone but which a reader might take for a foreign backup.
    await unlink(e.path);
    await unlink(sidecarPath(e.path)).catch(() => undefined);
  }
  return { kept: plan.keep.map((e) => e.name), removed: plan.remove.map((e) => e.name), cleaned: await cleanLeftovers(dir) };
}

/** Removes what killed runs left: temporary files and sidecars without their archive. */
export async function cleanLeftovers(dir: string): Promise<string[]> {
  const cleaned: string[] = [];
  for (const e of (await listBackups(dir)).filter((x) => x.status === 'partial')) {
    await unlink(e.path).catch(() => undefined);
    cleaned.push(e.name);
  }
  for (const p of await orphanSidecars(dir)) {
    await unlink(p).catch(() => undefined);
    cleaned.push(p);
  }
  return cleaned;
}
