/**
 * Kubernetes names of one store deployment. Every object's name derives from the instance name
 * (the seeds' $INSTANCE), so the instance is checked against the strictest rule any derived name
 * must follow: the CronJob's name, which Kubernetes caps at 52 characters because the Jobs it
 * creates append 11 more, and the Service's, a DNS-1035 label that must begin with a letter.
 */
import { AppError } from '../errors/index.ts';

const CRONJOB_SUFFIX = '-store-cronjob';
const CRONJOB_NAME_MAX = 52;
export const INSTANCE_MAX_LENGTH = CRONJOB_NAME_MAX - CRONJOB_SUFFIX.length;

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function invalidName(option: string, value: string, rule: string, hint = `use lower-case letters, digits and '-', e.g. ${option} wa-prod`): AppError {
  return new AppError('K8S_NAME_INVALID', `${option} ${JSON.stringify(value)} is not a valid Kubernetes name: ${rule}`, {
    hint, exitCode: 2, details: { option, value },
  });
}

export function checkInstance(value: string): string {
  if (!DNS1123_LABEL.test(value)) throw invalidName('--instance', value, "it must be a DNS-1123 label (lower-case letters, digits and '-', beginning and ending with a letter or digit)");
  if (!/^[a-z]/.test(value)) throw invalidName('--instance', value, `it must begin with a letter, as the Service ${value}-store derived from it must`);
  if (value.length > INSTANCE_MAX_LENGTH) {
    throw invalidName('--instance', value, `it has ${value.length} characters; at most ${INSTANCE_MAX_LENGTH} keep the CronJob name ${value}${CRONJOB_SUFFIX} within Kubernetes' ${CRONJOB_NAME_MAX}`,
      `choose an instance name of at most ${INSTANCE_MAX_LENGTH} characters`);
  }
  return value;
}

/** A namespace is a DNS-1123 label. */
export function checkNamespace(value: string): string {
  if (!DNS1123_LABEL.test(value) || value.length > 63) throw invalidName('--namespace', value, 'it must be a DNS-1123 label of at most 63 characters');
  return value;
}

/** Secrets and storage classes are named by DNS-1123 subdomains. */
export function checkObjectName(option: string, value: string): string {
  if (!DNS1123_SUBDOMAIN.test(value) || value.length > 253) throw invalidName(option, value, 'it must be a DNS-1123 subdomain of at most 253 characters');
  return value;
}

/** The names the seeds give a deployment's objects, and this store's own beside them. */
export interface DeploymentNames {
  /** The `astore serve` Deployment and its Service; the seeds find it by `component=store`. */
  store: string;
  /** The `astore train-worker` Deployment: the seeds read its replicas as `$INSTANCE-clu-training`. */
  training: string;
  /** The `astore store-admin` Deployment: the seeds patch its env and read its log. */
  admin: string;
  cronJob: string;
  backupPvc: string;
  /** Default name of the Secret with the PostgreSQL connection (`postgres.yaml`). */
  postgresSecret: string;
  /** Default name of the encryption-key Secret: the seeds' `$INSTANCE-auth-encryption`. */
  encryptionSecret: string;
}

export function deploymentNames(instance: string): DeploymentNames {
  return {
    store: `${instance}-store`,
    training: `${instance}-clu-training`,
    admin: `${instance}-store-admin`,
    cronJob: `${instance}${CRONJOB_SUFFIX}`,
    backupPvc: `${instance}-store-db-backup-pvc`,
    postgresSecret: `${instance}-store-postgres`,
    encryptionSecret: `${instance}-auth-encryption`,
  };
}

/** The pods' `component` labels; `store`, `store-admin` and `store-cronjob` are the ones the seeds select by. */
export type Component = 'store' | 'store-admin' | 'clu-training' | 'store-cronjob';

export function labels(instance: string, component: Component): Record<string, string> {
  return { 'app.kubernetes.io/name': 'assistant-store', 'app.kubernetes.io/instance': instance, component };
}

/** An object's metadata: its name, the namespace when one was chosen, and the deployment's labels. */
export function objectMeta(name: string, instance: string, namespace: string | undefined, component: Component): Record<string, unknown> {
  return { name, ...(namespace === undefined ? {} : { namespace }), labels: labels(instance, component) };
}
