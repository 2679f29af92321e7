/**
 * Constants and types of pg_dump's custom archive format (see the format spec in the team's
 * shared specs). Kept separate from the reader and writer so both speak the same vocabulary.
 */

export const MAGIC = Buffer.from('PGDMP', 'latin1');
export const FORMAT_CUSTOM = 1;

/** Data block types. */
export const BLOCK_DATA = 1;
export const BLOCK_BLOBS = 3;

/** Data offset flags. */
export const OFFSET_NOT_SET = 1;
export const OFFSET_SET = 2;
export const OFFSET_NO_DATA = 3;

export const SECTION_NONE = 1;
export const SECTION_PRE_DATA = 2;
export const SECTION_DATA = 3;
export const SECTION_POST_DATA = 4;

/** Version as pg_dump compares it: (major·256 + minor)·256 + revision. */
export function versionNumber(major: number, minor: number, rev = 0): number {
  return (major * 256 + minor) * 256 + rev;
}
export const V1_12 = versionNumber(1, 12);
export const V1_14 = versionNumber(1, 14);
export const V1_15 = versionNumber(1, 15);
export const V1_16 = versionNumber(1, 16);
/** Oldest and newest archive versions this reader accepts. */
export const OLDEST_READABLE = V1_12;
export const NEWEST_READABLE = versionNumber(1, 16, 255);

export type CompressionAlgorithm = 'none' | 'gzip' | 'lz4' | 'zstd';

export interface ArchiveHeader {
  versionMajor: number;
  versionMinor: number;
  versionRev: number;
  intSize: number;
  offSize: number;
  format: number;
  compression: {
    algorithm: CompressionAlgorithm;
    /** The level recorded by archives ≤ 1.14 (−1 = zlib default); null for 1.15+, which record no level. */
    level: number | null;
  };
  /** Creation time as pg_dump's local broken-down time (tm_mon 0–11, tm_year since 1900). */
  created: { sec: number; min: number; hour: number; mday: number; mon: number; year: number; isdst: number };
  dbname: string | null;
  serverVersion: string | null;
  pgDumpVersion: string | null;
  /** Number of TOC entries. */
  tocCount: number;
}

export interface TocEntry {
  dumpId: number;
  hadDumper: boolean;
  tableoid: string;
  oid: string;
  tag: string | null;
  desc: string;
  section: number;
  defn: string | null;
  dropStmt: string | null;
  copyStmt: string | null;
  namespace: string | null;
  tablespace: string | null;
  tableam: string | null;
  /** `pg_class.relkind` character code (V1.16+); 0 when absent. */
  relkind: number;
  owner: string | null;
  withOids: string | null;
  dependencies: number[];
  /** Data offset flag (1 not set, 2 set, 3 no data). */
  offsetFlag: number;
  /** Absolute position of the entry's data block when offsetFlag is 2, else 0. */
  dataOffset: number;
  /** Where this entry starts in the file (for error messages). */
  tocOffset: number;
}

export function versionText(h: Pick<ArchiveHeader, 'versionMajor' | 'versionMinor' | 'versionRev'>): string {
  return `${h.versionMajor}.${h.versionMinor}-${h.versionRev}`;
}
