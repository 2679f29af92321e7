/** Every object of one store deployment, in the order `kubectl apply` should create them. */
import { PACKAGE_VERSION } from '../config/index.ts';
import { adminManifests } from './admin.ts';
import { backupManifests } from './backup.ts';
import type { ManifestDocument } from './document.ts';
import { CA_FILE_NAME, KEY_FILE_NAME, POSTGRES_FILE_NAME, storeFiles } from './mounts.ts';
import { checkManifestInput, type ManifestInput, type ManifestOptions } from './options.ts';
import { renderManifests } from './render.ts';
import { storeManifests } from './store.ts';
import { trainingManifests } from './training.ts';

function documentsFor(o: ManifestOptions): ManifestDocument[] {
  const files = storeFiles({
    postgresSecret: o.postgresSecret, postgresCaSecret: o.postgresCaSecret, encryptionSecret: o.encryptionSecret,
    backupPvc: o.names.backupPvc,
  });
  // The PVC comes before the CronJob whose pods mount it.
  return [...backupManifests(o, files), ...storeManifests(o, files), ...trainingManifests(o, files), ...adminManifests(o, files)];
}

/** The manifests as YAML. The Secrets they name are referenced only: their values never pass through here. */
export function generateManifests(input: ManifestInput): string {
  const o = checkManifestInput(input);
  const header = [
    `Assistant Store ${PACKAGE_VERSION}, instance ${o.instance}: written by \`astore k8s manifests\`.`,
    'Create these Secrets first (they hold credentials, so they are not written here):',
    `  ${o.postgresSecret} with key ${POSTGRES_FILE_NAME} (from \`astore db info\`)`,
    `  ${o.encryptionSecret}: kubectl apply -f the ${KEY_FILE_NAME} of \`astore secret export --name ${o.encryptionSecret}\``,
    `    (a new deployment: of \`astore secret generate --name ${o.encryptionSecret} -o ${KEY_FILE_NAME}\`)`,
    ...(o.postgresCaSecret ? [`  ${o.postgresCaSecret} with key ${CA_FILE_NAME} (the CA of the PostgreSQL server's certificate)`] : []),
  ].join('\n');
  return renderManifests(header, documentsFor(o));
}
