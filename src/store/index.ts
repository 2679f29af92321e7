export { makeDir, makeStoreDir, writeAtomic, createAtomic, outputTarget, outputFile, type OutputOption, type OutputTarget } from './files.ts';
export { openDatabase, withTransaction, withSnapshot, createPool, STORE_SCHEMA, MAX_READABLE_BYTEA, type Database } from './database.ts';
export { describeConnectionError, isDatabaseUnavailable } from './connection-errors.ts';
export { openStore, assertCurrentRelease, resolveKey, recordFingerprint, recordedFingerprint, secretFilePath, type Store, type OpenStoreOptions } from './open.ts';
export {
  MIGRATIONS, CURRENT_RELEASE, UPGRADE_PATHS, ident, migrate, schemaRelease, isKnownRelease, appliedMigrations, checkUpgradePath, releaseLine,
  type Migration, type MigrationContext,
} from './migrations/index.ts';
export { sessionName } from './session-name.ts';
export { startCluster, findRunningCluster, freePort, type RunningCluster, type ClusterOptions } from './embedded.ts';
