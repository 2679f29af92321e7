/**
 * Caller-defined metadata carried inside an archive (the store records its schema release and
 * the encryption-key fingerprint this way).
 *
 * Choice: a dedicated TOC entry with desc `ASTORE METADATA` and tag `astore-metadata`, in the
 * pre-data section right after the special entries, whose defn is a single SQL line comment
 * `-- astore metadata: {json}`. Stock pg_restore lists it (`N; 0 0 ASTORE METADATA - astore-metadata`),
 * prints the comment into scripts and, restoring into a database, sends it as an empty query,
 * which the server accepts and which changes nothing (verified with pg_restore 15, serial and
 * -j2). It has no owner and no dropStmt, so no pg_restore version tries to ALTER its owner, and
 * nothing in the restored database depends on it. JSON.stringify escapes line breaks, so the
 * comment can never spill into executable SQL.
 */
import { AppError } from '../errors/index.ts';
import { SECTION_PRE_DATA, type TocEntry } from './format.ts';
import { openArchive, type ArchiveInput } from './reader.ts';
import type { WriterEntry } from './writer.ts';

export const METADATA_DESC = 'ASTORE METADATA';
export const METADATA_TAG = 'astore-metadata';
const PREFIX = '-- astore metadata: ';

export type ArchiveMetadata = Record<string, unknown>;

export function metadataEntry(dumpId: number, metadata: ArchiveMetadata): WriterEntry {
  const json = JSON.stringify(metadata);
  if (/[\r\n]/.test(json)) throw new AppError('ARCHIVE_WRITE_INVALID', 'metadata JSON must be a single line');
  return { dumpId, desc: METADATA_DESC, tag: METADATA_TAG, section: SECTION_PRE_DATA, defn: `${PREFIX}${json}\n` };
}

/** Extracts the metadata from a TOC, or undefined when the archive carries none (e.g. made by pg_dump). */
export function metadataFromEntries(entries: readonly TocEntry[]): ArchiveMetadata | undefined {
  const e = entries.find((x) => x.desc === METADATA_DESC && x.tag === METADATA_TAG);
  if (!e) return undefined;
  const text = e.defn?.startsWith(PREFIX) ? e.defn.slice(PREFIX.length).trim() : undefined;
  try {
    const value: unknown = text === undefined ? undefined : JSON.parse(text);
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as ArchiveMetadata;
  } catch { /* reported below */ }
  throw new AppError('ARCHIVE_METADATA_INVALID', `the archive's ${METADATA_DESC} entry (at offset ${e.tocOffset}) does not hold a JSON object`, { exitCode: 2 });
}

/** Reads only header and TOC (no data) and returns the archive's metadata. */
export async function readArchiveMetadata(input: ArchiveInput): Promise<ArchiveMetadata | undefined> {
  const reader = await openArchive(input);
  try {
    return metadataFromEntries(reader.entries);
  } finally {
    await reader.close();
  }
}
