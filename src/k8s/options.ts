/**
 * What one deployment's manifests are made from, checked before anything is built: a bad name or
 * size would otherwise surface only when `kubectl apply` refuses the object, or — for the
 * retrain-all schedule — when `astore store-admin` refuses to start in the cluster.
 */
import type { BackupSettings } from '../backup/index.ts';
import { AppError, isAppError } from '../errors/index.ts';
import { nextQuartzTime, parseQuartz, type QuartzExpression } from '../schedule/index.ts';
import { checkInstance, checkNamespace, checkObjectName, deploymentNames, type DeploymentNames } from './names.ts';

export interface ManifestInput {
  instance: string;
  /** Unset: the objects carry no namespace, and `kubectl -n` (or the context's) decides. */
  namespace?: string | undefined;
  image: string;
  /** Replica counts, at least 1 (the command checks them as it reads them). */
  storeReplicas: number;
  trainingReplicas: number;
  /** Size of the backup PVC, a Kubernetes quantity such as 10Gi. */
  backupStorage: string;
  /** Unset: the cluster's default storage class. */
  storageClass?: string | undefined;
  /** Default `<instance>-store-postgres`. */
  postgresSecret?: string | undefined;
  /** Unset: TLS to PostgreSQL, if any, is not verified against a CA. */
  postgresCaSecret?: string | undefined;
  /** Default `<instance>-auth-encryption`. */
  encryptionSecret?: string | undefined;
  /**
   * The user and group id the pods run as, also their volumes' fsGroup (the command checks it as it
   * reads it). Unset: none is written, and the cluster assigns them, as OpenShift's restricted SCC
   * does (it refuses a fixed id outside the namespace's range).
   */
  runAs?: number | undefined;
  /** A Quartz expression; unset: no auto-retrain-all. */
  autoRetrainAllSchedule?: string | undefined;
  /** The backup settings, as `loadBackupSettings` read them. */
  backup: BackupSettings;
}

export interface ManifestOptions extends Omit<ManifestInput, 'postgresSecret' | 'encryptionSecret'> {
  names: DeploymentNames;
  postgresSecret: string;
  encryptionSecret: string;
}

// Kubernetes' quantity grammar, restricted to what makes sense for a volume size.
const QUANTITY = /^([0-9]+(\.[0-9]+)?)(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$/;

function invalidOption(option: string, value: string, expected: string, hint?: string): AppError {
  return new AppError('K8S_OPTION_INVALID', `${option} is ${JSON.stringify(value)}, expected ${expected}`, { hint, exitCode: 2, details: { option, value } });
}

function checkStorage(value: string): void {
  const size = QUANTITY.exec(value);
  if (!size) throw invalidOption('--backup-storage', value, 'a Kubernetes quantity such as 10Gi or 500Mi');
  // Kubernetes refuses a PersistentVolumeClaim that requests no storage.
  if (Number(size[1]) === 0) {
    throw invalidOption('--backup-storage', value, 'a size greater than zero', 'give room for the backups kept (store.backup.history.files.*), e.g. --backup-storage 10Gi');
  }
}

/** A schedule store-admin can read that also fires again: one that never does would deploy a retrain-all that never runs. */
function checkSchedule(expression: string): string {
  let quartz: QuartzExpression;
  try {
    quartz = parseQuartz(expression);
  } catch (err) {
    if (!isAppError(err)) throw err;
    throw new AppError(err.code, `--auto-retrain-all-schedule: ${err.message}`, { hint: err.hint, exitCode: 2, details: err.details, cause: err });
  }
  const now = new Date();
  if (nextQuartzTime(quartz, now) === undefined) {
    throw new AppError('CRON_INVALID', `--auto-retrain-all-schedule "${expression}" has no fire time after now (${now.toISOString()}), so retrain-all would never run`, {
      hint: 'give a time to come, in UTC (a year field still to come, or none), e.g. "0 0 3 * * ?" for every day at 03:00; to retrain now, run astore retrain-all',
      exitCode: 2, details: { expression },
    });
  }
  return expression.trim();
}

export function checkManifestInput(input: ManifestInput): ManifestOptions {
  const instance = checkInstance(input.instance);
  const names = deploymentNames(instance);
  if (input.image.trim() === '' || /\s/.test(input.image)) throw invalidOption('--image', input.image, 'an image reference such as registry.example.com/assistant-store:1.2.1');
  checkStorage(input.backupStorage);
  const optional = <T>(v: T | undefined, check: (v: T) => T): T | undefined => (v === undefined ? undefined : check(v));
  return {
    ...input,
    instance,
    names,
    namespace: optional(input.namespace, checkNamespace),
    storageClass: optional(input.storageClass, (v) => checkObjectName('--storage-class', v)),
    postgresSecret: checkObjectName('--postgres-secret', input.postgresSecret ?? names.postgresSecret),
    postgresCaSecret: optional(input.postgresCaSecret, (v) => checkObjectName('--postgres-ca-secret', v)),
    encryptionSecret: checkObjectName('--encryption-secret', input.encryptionSecret ?? names.encryptionSecret),
    autoRetrainAllSchedule: optional(input.autoRetrainAllSchedule, checkSchedule),
  };
}
