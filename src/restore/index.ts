/** Restore (`pgmig` / `astore restore`): archive preflight, instance mapping, atomic staged load, quiesce flag. */
export { restore, nextSteps, type RestoreOptions, type RestorePhase, type RestoreSummary } from './restore.ts';
export { maintenanceMessage, setMaintenance, clearMaintenance, CONTROL_SCHEMA } from './maintenance.ts';
export { readResourceControllerYaml, readMappingFile, formatMapping, type ResourceControllerYaml } from './config.ts';
export { listTargetInstances, type TargetInstance } from './resource-controller.ts';
export { ENTERED_MAPPING_FILE, resolveMapping } from './mapping.ts';
export { preflightArchive, scanArchive, type ArchiveSummary, type ProgressFn } from './scan.ts';
export { STAGING_PREFIX, dropStaleStagingIfIdle } from './staging.ts';
