/** Kubernetes: `astore k8s manifests`, the objects of one store deployment as YAML. */
import type { Command } from 'commander';
import { DATA_KEY } from '../../auth/index.ts';
import { loadBackupSettings } from '../../backup/index.ts';
import { defaultImage, generateManifests, INSTANCE_MAX_LENGTH, writeManifestsFile } from '../../k8s/index.ts';
import { positiveInt } from '../args.ts';

/** Replicas and user ids are int32 fields in Kubernetes. */
const INT32_MAX = 2_147_483_647;

interface ManifestFlags {
  instance: string;
  namespace?: string;
  image: string;
  storeReplicas: string;
  trainingReplicas?: string;
  backupStorage: string;
  storageClass?: string;
  postgresSecret?: string;
  postgresCaSecret?: string;
  encryptionSecret?: string;
  runAs?: string;
  autoRetrainAllSchedule?: string;
  config?: string;
  output?: string;
}

export function register(program: Command): void {
  const k8s = program.command('k8s').description('Kubernetes manifests for a store deployment');
  k8s.command('manifests')
    .description('print the Deployments, Service, backup CronJob and PVC of one store deployment as multi-document YAML '
      + '(Secrets are referenced, never written)')
    .requiredOption('--instance <name>', `deployment name (the seeds' $INSTANCE), prefix of every object name; a DNS-1123 label of at most ${INSTANCE_MAX_LENGTH} characters beginning with a letter`)
    .option('--namespace <name>', 'namespace of the objects (default: none written, kubectl -n or the context decides)')
    .option('--image <ref>', 'container image with astore on PATH; you build and push it (npm install -g of this package)', defaultImage())
    .option('--store-replicas <n>', 'astore serve replicas', '1')
    .option('--training-replicas <n>', "astore train-worker replicas (one training each); default the seeds' CLU_TRAINING_REPLICAS, else 1")
    .option('--backup-storage <size>', 'size of the backup PVC', '10Gi')
    .option('--storage-class <name>', 'storage class of the backup PVC (default: the cluster default)')
    .option('--postgres-secret <name>', 'Secret whose key postgres.yaml is the database connection (default: INSTANCE-store-postgres)')
    .option('--postgres-ca-secret <name>', 'Secret whose key ca.crt verifies the PostgreSQL server certificate (default: none, no PG_CA_FILE)')
    .option('--encryption-secret <name>', `Secret holding the encryption key under key ${DATA_KEY}: the one \`astore secret export --name NAME\` writes, `
      + 'applied with kubectl apply -f (default: INSTANCE-auth-encryption)')
    .option('--run-as <uid>', "user and group id of every pod, and its volumes' fsGroup (which makes the backup PVC writable); on plain Kubernetes "
      + "the image's non-root user id (default: none written, the cluster assigns them, as OpenShift's restricted SCC does)")
    .option('--auto-retrain-all-schedule <quartz>', "run retrain-all in the store-admin pod on this Quartz schedule (UTC), with a fire time still to come, "
      + "with AUTO_RETRAIN=false and batches sized by the seeds' rule (default: off; kubectl set env on NAME-store-admin turns it on later)")
    .option('--config <file>', 'config file with store.backup.* settings for the CronJob (default ASTORE_HOME/config.yaml; STORE_BACKUP_* override)')
    .option('-o, --output <file>', 'file to write (through a temporary name and rename); default stdout')
    .action(async (o: ManifestFlags) => {
      const yaml = generateManifests({
        instance: o.instance,
        namespace: o.namespace,
        image: o.image,
        storeReplicas: positiveInt(o.storeReplicas, '--store-replicas', INT32_MAX),
        trainingReplicas: trainingReplicas(o.trainingReplicas),
        backupStorage: o.backupStorage,
        storageClass: o.storageClass,
        postgresSecret: o.postgresSecret,
        postgresCaSecret: o.postgresCaSecret,
        encryptionSecret: o.encryptionSecret,
        runAs: o.runAs === undefined ? undefined : positiveInt(o.runAs, '--run-as', INT32_MAX),
        autoRetrainAllSchedule: o.autoRetrainAllSchedule,
        backup: loadBackupSettings({ config: o.config }),
      });
      if (o.output) {
        await writeManifestsFile(o.output, yaml);
        process.stderr.write(`wrote ${o.output}\n`);
      } else {
        process.stdout.write(yaml);
      }
    });
}

/** --training-replicas, else the seeds' CLU_TRAINING_REPLICAS, else 1. */
function trainingReplicas(flag: string | undefined): number {
  if (flag !== undefined) return positiveInt(flag, '--training-replicas', INT32_MAX);
  const env = process.env.CLU_TRAINING_REPLICAS;
  return env ? positiveInt(env, 'CLU_TRAINING_REPLICAS', INT32_MAX) : 1;
}
