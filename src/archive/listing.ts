/**
 * The table of contents as `pg_restore --list` prints it: the same header block, the same entry
 * lines and the same default selection (the special ENCODING/STDSTRINGS/SEARCHPATH entries, the
 * database-level entries that only `--create` restores, and entries with neither SQL nor data are
 * not listed).
 */
import { versionText, type ArchiveHeader, type TocEntry } from './format.ts';

const SPECIAL = new Set(['ENCODING', 'STDSTRINGS', 'SEARCHPATH']);

/** Would a default `pg_restore` (no --create) select this entry? */
export function isListed(e: TocEntry): boolean {
  if (SPECIAL.has(e.desc)) return false;
  if (e.desc === 'DATABASE' || e.desc === 'DATABASE PROPERTIES') return false;
  if ((e.desc === 'ACL' || e.desc === 'COMMENT' || e.desc === 'SECURITY LABEL') && e.tag?.startsWith('DATABASE ')) return false;
  if (!e.hadDumper && (e.defn === null || e.defn === '')) return false;
  return true;
}

/** One-line form of a name, as pg_restore prints it (line breaks become spaces). */
function sanitize(s: string | null, hyphen: boolean): string {
  if (s === null || s === '') return hyphen ? '-' : '';
  return s.replace(/[\r\n]/g, ' ');
}

export function entryLine(e: TocEntry): string {
  return `${e.dumpId}; ${e.tableoid} ${e.oid} ${e.desc} ${sanitize(e.namespace, true)} ${sanitize(e.tag, false)} ${sanitize(e.owner, false)}`;
}

function createdText(h: ArchiveHeader): string {
  const c = h.created;
  const d = new Date(c.year + 1900, c.mon, c.mday, c.hour, c.min, c.sec);
  if (Number.isNaN(d.getTime())) return 'unknown';
  const p = (n: number) => String(n).padStart(2, '0');
  const zone = new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' }).formatToParts(d).find((x) => x.type === 'timeZoneName')?.value ?? '';
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())} ${zone}`;
}

export function formatListing(header: ArchiveHeader, entries: readonly TocEntry[]): string {
  const compression = header.compression.level !== null ? String(header.compression.level) : header.compression.algorithm;
  const lines = [
    ';',
    `; Archive created at ${createdText(header)}`,
    `;     dbname: ${sanitize(header.dbname, false)}`,
    `;     TOC Entries: ${header.tocCount}`,
    `;     Compression: ${compression}`,
    `;     Dump Version: ${versionText(header)}`,
    ';     Format: CUSTOM',
    `;     Integer: ${header.intSize} bytes`,
    `;     Offset: ${header.offSize} bytes`,
    ...(header.serverVersion !== null ? [`;     Dumped from database version: ${header.serverVersion}`] : []),
    ...(header.pgDumpVersion !== null ? [`;     Dumped by pg_dump version: ${header.pgDumpVersion}`] : []),
    ';',
    ';',
    '; Selected TOC Entries:',
    ';',
    ...entries.filter(isListed).map(entryLine),
  ];
  return lines.join('\n') + '\n';
}
