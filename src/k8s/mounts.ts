/**
 * Where, inside the pods, the files the CLI reads appear. The CLI takes its connection and key
 * from files named by variables (ASTORE_POSTGRES, ASTORE_ENCRYPTION_SECRET, PG_CA_FILE), so each
 * Secret key is mounted as exactly the file its variable names. Variables rather than flags: a
 * command run in the pod by hand (`kubectl exec … astore backup`) then reaches the same database
 * with the same key. Whole directories are mounted rather than single files (`subPath`) because
 * Kubernetes refreshes only the former when the Secret changes, e.g. after `astore secret apply`
 * on another copy.
 */
import { DATA_KEY, SECRET_FILE_NAME } from '../auth/index.ts';

export type K8sObject = Record<string, unknown>;

/** The seeds' backup directory: the PVC's mount point in the CronJob's pods. */
export const BACKUP_DIR = '/store-backups';
export const POSTGRES_FILE_NAME = 'postgres.yaml';
export const CA_FILE_NAME = 'ca.crt';
export { SECRET_FILE_NAME as KEY_FILE_NAME };

/** A file (or directory) a container sees, and the volume it comes from. */
export interface MountedFile {
  path: string;
  volume: K8sObject;
  mount: K8sObject;
}

function secretKeyAsFile(volume: string, secret: string, key: string, dir: string): MountedFile {
  return {
    path: `${dir}/${key}`,
    volume: { name: volume, secret: { secretName: secret, items: [{ key, path: key }] } },
    mount: { name: volume, mountPath: dir, readOnly: true },
  };
}

function secretDirectory(volume: string, secret: string, key: string, dir: string): MountedFile {
  return {
    path: dir,
    volume: { name: volume, secret: { secretName: secret, items: [{ key, path: key }] } },
    mount: { name: volume, mountPath: dir, readOnly: true },
  };
}

export interface FileSources {
  postgresSecret: string;
  postgresCaSecret: string | undefined;
  encryptionSecret: string;
  backupPvc: string;
}

/** Every file a store container may need, each from the object that holds it. */
export interface StoreFiles {
  /** For ASTORE_POSTGRES: the output of `astore db info`. */
  postgres: MountedFile;
  /** For PG_CA_FILE, when the server's certificate is to be verified. */
  postgresCa: MountedFile | undefined;
  /**
   * For ASTORE_ENCRYPTION_SECRET: the directory where the encryption-key Secret is mounted, which
   * the CLI reads as the Secret (its data key as a file). The Secret is the YAML `astore secret
   * export --name` writes, applied as it is, as the seeds apply their auth-encryption-secret.yaml.
   */
  encryptionKey: MountedFile;
  /** The backup directory, writable. */
  backups: MountedFile;
}

export function storeFiles(s: FileSources): StoreFiles {
  return {
    postgres: secretKeyAsFile('postgres', s.postgresSecret, POSTGRES_FILE_NAME, '/etc/astore/postgres'),
    postgresCa: s.postgresCaSecret === undefined ? undefined : secretKeyAsFile('postgres-ca', s.postgresCaSecret, CA_FILE_NAME, '/etc/astore/postgres-ca'),
    encryptionKey: secretDirectory('encryption-key', s.encryptionSecret, DATA_KEY, '/etc/astore/encryption'),
    backups: {
      path: BACKUP_DIR,
      volume: { name: 'store-backups', persistentVolumeClaim: { claimName: s.backupPvc } },
      mount: { name: 'store-backups', mountPath: BACKUP_DIR },
    },
  };
}

export interface EnvVar { name: string; value: string }

/** What a container needs to reach the database: its postgres.yaml, and the CA when verifying TLS. */
export function databaseAccess(files: StoreFiles): { env: EnvVar[]; files: MountedFile[] } {
  const ca = files.postgresCa;
  return {
    env: [{ name: 'ASTORE_POSTGRES', value: files.postgres.path }, ...(ca ? [{ name: 'PG_CA_FILE', value: ca.path }] : [])],
    files: ca ? [files.postgres, ca] : [files.postgres],
  };
}

/** What a container needs to open the store: the key file, which it reads through ASTORE_ENCRYPTION_SECRET. */
export function keyAccess(files: StoreFiles): { env: EnvVar[]; files: MountedFile[] } {
  return { env: [{ name: 'ASTORE_ENCRYPTION_SECRET', value: files.encryptionKey.path }], files: [files.encryptionKey] };
}
