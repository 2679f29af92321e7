/**
 * The seeds' auto-retrain-all settings for `astore store-admin`, which runs retrain-all on the
 * schedule. The batch size follows the seeds' rule — two workspaces per training replica, since a
 * model takes about 30 s — and the pauses follow it too: 60 − batch seconds between batches
 * (none once that is negative), one second between submissions.
 */
import type { EnvVar } from './mounts.ts';

export function autoRetrainAllEnv(schedule: string | undefined, trainingReplicas: number): EnvVar[] {
  if (schedule === undefined) return [];
  const batch = trainingReplicas * 2;
  return [
    // The seeds' first step: stale models are then retrained by retrain-all's batches only, not
    // also by the sweep.
    { name: 'AUTO_RETRAIN', value: 'false' },
    { name: 'AUTO_RETRAIN_ALL_ENABLED', value: 'true' },
    { name: 'AUTO_RETRAIN_ALL_CRON_SCHEDULE', value: schedule },
    { name: 'BATCH_RETRAIN_ALL_SIZE', value: String(batch) },
    { name: 'WAIT_TIME_BETWEEN_BATCH_RETRAIN_IN_SECONDS_FOR_RETRAIN_ALL', value: String(60 - batch) },
    { name: 'WAIT_TIME_BETWEEN_TRAININGS_FOR_RETRAIN_ALL', value: '1' },
  ];
}
