/**
 * The dumper backups are built on: a consistent, complete custom-format archive of a live
 * database, restorable by stock pg_restore and by our own reader.
 */
export { dumpDatabase, type DumpOptions, type DumpSummary, type DumpProgress } from './dump.ts';
export { readArchiveMetadata, type ArchiveMetadata } from '../archive/index.ts';
