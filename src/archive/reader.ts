/**
 * Streaming reader of pg_dump custom-format archives, versions 1.12–1.16.
 *
 * `blocks()` reads strictly front to back and never uses the stored data offsets, so an archive
 * piped through stdin reads exactly like a file (pipe-written archives have no offsets anyway).
 * Header and TOC are parsed eagerly by `openArchive`; data blocks are then handed out one at a time
 * by `blocks()`, each as a lazily consumed stream of chunks: a block the caller does not read is
 * skipped without being decompressed, and nothing larger than one input buffer is held in memory.
 * A file's blocks can also be read singly by their TOC offsets (`readBlockAt`), independently of
 * that pass, for callers that need a few small tables before reading the rest.
 *
 * Every defect is an AppError naming the byte offset and what was expected there.
 */
import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { TextDecoder } from 'node:util';
import { AppError } from '../errors/index.ts';
import { ByteSource } from './byte-source.ts';
import { copyRows, type CopyValue } from './copy-text.ts';
import { inflateChunks } from './inflate.ts';
import {
  BLOCK_BLOBS, BLOCK_DATA, FORMAT_CUSTOM, MAGIC, NEWEST_READABLE, OFFSET_NO_DATA, OFFSET_NOT_SET, OFFSET_SET,
  OLDEST_READABLE, V1_14, V1_15, V1_16, versionNumber, versionText,
  type ArchiveHeader, type CompressionAlgorithm, type TocEntry,
} from './format.ts';

export type ArchiveInput = string | Readable | AsyncIterable<Buffer | Uint8Array | string>;

const READ_BUFFER = 1 << 20;
/** Sanity limits: beyond them a length field is certainly corrupt, and honouring it would only waste memory. */
// A TOC string (a definition, a COPY statement) of 64 MiB is already far beyond any real one; a
// flipped bit in a length field asked for up to 1 GiB, past V8's longest string, after a long read.
const MAX_STRING = 64 << 20;
const MAX_TOC_ENTRIES = 50_000_000;

export function corrupt(offset: number, message: string, details: Record<string, unknown> = {}): AppError {
  return new AppError('ARCHIVE_CORRUPT', `corrupt archive at offset ${offset}: ${message}`, {
    hint: 'the archive is damaged or is not a pg_dump custom-format archive; use an intact copy',
    exitCode: 2,
    details: { offset, ...details },
  });
}

/** A regular file the archive was opened from: where it is and which file it was, for reads by offset. */
interface ArchiveFile {
  path: string;
  size: number;
  /** Device, inode, size and modification time: another file (or this one rewritten) differs. */
  identity: string;
}

interface Input {
  source: AsyncIterable<Buffer | Uint8Array | string>;
  name: string;
  /** Set when the input is a regular file (not a pipe or device, which can be read only once). */
  file?: ArchiveFile;
}

const fileIdentity = (st: { dev: number; ino: number; size: number; mtimeMs: number }): string => `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}`;

/** Opens a file path, `-` (stdin), a Readable or any async iterable of bytes. */
async function toIterable(input: ArchiveInput): Promise<Input> {
  if (input === '-') return { source: process.stdin, name: 'stdin' };
  if (typeof input === 'string') {
    try {
      const fh = await open(input, 'r');
      const st = await fh.stat().catch(async (err: unknown) => { await fh.close(); throw err; });
      // Opening a directory succeeds; only the first read fails, far from here and without a code.
      if (st.isDirectory()) {
        await fh.close();
        throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
      }
      const file = st.isFile() ? { path: input, size: st.size, identity: fileIdentity(st) } : undefined;
      return { source: fh.createReadStream({ highWaterMark: READ_BUFFER }), name: input, ...(file ? { file } : {}) };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') {
        throw new AppError('ARCHIVE_NOT_FOUND', `cannot open archive ${input}: ${(err as Error).message}`, {
          hint: 'check the path (relative paths start at the current directory); astore backups list shows the backups in the backup directory',
          exitCode: 2, cause: err,
        });
      }
      const hint = code === 'EACCES' || code === 'EPERM'
        ? 'give the user running this command read permission on the file (and search permission on its directories), or copy the archive somewhere it can read'
        : code === 'EISDIR'
          ? 'name the archive file itself, not its directory; astore backups list shows the backups in the backup directory'
          : 'check that the path names a readable pg_dump -Fc archive file';
      throw new AppError('ARCHIVE_UNREADABLE', `cannot open archive ${input}: ${(err as Error).message}`, { hint, exitCode: 2, cause: err });
    }
  }
  return { source: input, name: 'stream' };
}

/** PostgreSQL encoding names → WHATWG labels understood by TextDecoder. */
const ENCODINGS: Record<string, string> = {
  UTF8: 'utf-8', SQL_ASCII: 'utf-8', LATIN1: 'iso-8859-1', LATIN2: 'iso-8859-2', LATIN3: 'iso-8859-3',
  LATIN4: 'iso-8859-4', LATIN5: 'iso-8859-9', LATIN6: 'iso-8859-10', LATIN7: 'iso-8859-13', LATIN8: 'iso-8859-14',
  LATIN9: 'iso-8859-15', LATIN10: 'iso-8859-16', WIN1250: 'windows-1250', WIN1251: 'windows-1251',
  WIN1252: 'windows-1252', WIN1253: 'windows-1253', WIN1254: 'windows-1254', WIN1255: 'windows-1255',
  WIN1256: 'windows-1256', WIN1257: 'windows-1257', WIN1258: 'windows-1258', WIN866: 'ibm866', KOI8R: 'koi8-r',
  KOI8U: 'koi8-u', EUC_JP: 'euc-jp', SJIS: 'shift_jis', EUC_KR: 'euc-kr', BIG5: 'big5', GBK: 'gbk', GB18030: 'gb18030',
  ISO_8859_5: 'iso-8859-5', ISO_8859_6: 'iso-8859-6', ISO_8859_7: 'iso-8859-7', ISO_8859_8: 'iso-8859-8',
};

function textDecoder(encoding: string): TextDecoder | undefined {
  const label = ENCODINGS[encoding.toUpperCase()];
  if (!label) return undefined;
  try { return new TextDecoder(label); } catch { return undefined; }
}

/** A decoder for the archive's COPY text, or ARCHIVE_ENCODING_UNSUPPORTED naming where the encoding came from. */
function decoderFor(encoding: string, source: string): TextDecoder {
  const decoder = textDecoder(encoding);
  if (!decoder) {
    throw new AppError('ARCHIVE_ENCODING_UNSUPPORTED', `the archive's client encoding "${encoding}" (${source}) is not supported for decoding rows`, {
      hint: 'dump the database again with `pg_dump -Fc -E UTF8`', exitCode: 2, details: { encoding },
    });
  }
  return decoder;
}

/** Reads the archive's primitive encodings (int, string, offset) with its header's sizes. */
class FieldReader {
  intSize = 4;
  offSize = 8;
  text: TextDecoder = new TextDecoder('utf-8');
  constructor(readonly src: ByteSource) {}

  async int(what: string): Promise<number> {
    const at = this.src.offset;
    const b = await this.src.read(1 + this.intSize, what);
    let mag = 0;
    for (let i = this.intSize; i >= 1; i--) mag = mag * 256 + b[i]!;
    if (!Number.isSafeInteger(mag)) throw corrupt(at, `${what}: integer magnitude does not fit in 53 bits`);
    return b[0] !== 0 ? -mag : mag;
  }

  /** An int that pg_restore would accumulate into a 32-bit C int (large-object OIDs): reinterpreted as uint32. */
  async oid(what: string): Promise<number> {
    const v = await this.int(what);
    return Number(BigInt.asUintN(32, BigInt(v)));
  }

  async bytes(what: string): Promise<Buffer | null> {
    const at = this.src.offset;
    const len = await this.int(`length of ${what}`);
    if (len < 0) return null;
    if (len > MAX_STRING) throw corrupt(at, `${what}: implausible string length ${len}`);
    return this.src.read(len, what);
  }

  async string(what: string): Promise<string | null> {
    const b = await this.bytes(what);
    return b === null ? null : this.text.decode(b);
  }

  async offset(what: string): Promise<{ flag: number; position: number }> {
    const at = this.src.offset;
    const b = await this.src.read(1 + this.offSize, what);
    const flag = b[0]!;
    if (flag !== OFFSET_NOT_SET && flag !== OFFSET_SET && flag !== OFFSET_NO_DATA) {
      throw corrupt(at, `${what}: unexpected data offset flag ${flag} (expected 1, 2 or 3)`);
    }
    let position = 0;
    for (let i = this.offSize; i >= 1; i--) position = position * 256 + b[i]!;
    if (!Number.isSafeInteger(position)) throw corrupt(at, `${what}: offset does not fit in 53 bits`);
    return { flag, position };
  }
}

export interface LargeObject {
  /** OID as unsigned 32-bit (pg_dump writes OIDs ≥ 2^31 as negative ints). */
  oid: number;
  /** The object's decompressed bytes. */
  data(): AsyncGenerator<Buffer>;
}

/** One data block, consumed lazily. Read it (payload/rows/largeObjects) before asking for the next block. */
export interface DataBlock {
  kind: 'table-data' | 'blobs';
  dumpId: number;
  entry: TocEntry;
  /** Absolute offset of the block's type byte. */
  offset: number;
  /** Decompressed payload of a table-data block. */
  payload(): AsyncGenerator<Buffer>;
  /** COPY rows of a table-data block, in batches. */
  rows(options?: { batchSize?: number }): AsyncGenerator<CopyValue[][]>;
  /** Large objects of a BLOBS block. */
  largeObjects(): AsyncGenerator<LargeObject>;
  /** Compressed (stored) bytes read so far. */
  readonly storedBytes: number;
  /** True once the COPY end marker `\.` was seen by rows(). */
  readonly sawEndMarker: boolean;
}

export interface ArchiveReader {
  header: ArchiveHeader;
  entries: TocEntry[];
  /** The archive's client encoding (from its ENCODING entry; SQL_ASCII when absent). */
  encoding: string;
  /**
   * `encoding` as PostgreSQL names it, once checked to be one this reader decodes
   * (ARCHIVE_ENCODING_UNSUPPORTED otherwise): what a COPY of the archive's data must be told.
   */
  copyEncoding(): string;
  /** Offset just after the TOC, where data blocks start. */
  dataStart: number;
  /** Where the input came from, for messages. */
  name: string;
  /** Data blocks in file order. Each block must be finished with before the next is requested. */
  blocks(): AsyncGenerator<DataBlock>;
  /** Current read position. */
  readonly offset: number;
  /** The file's size, when the archive was opened from a regular file (undefined for streams, pipes and devices). */
  readonly size: number | undefined;
  /** Which file it is (device, inode, size, modification time), when opened from a regular file. */
  readonly fileIdentity: string | undefined;
  /**
   * Reads the data block of `entry` at the offset the TOC gives for it, on a separate file
   * handle (blocks() is unaffected), and hands it to `use`. Only for archives opened from a file
   * whose TOC has that offset (pg_dump and astore write them to files, not to pipes).
   */
  readBlockAt<T>(entry: TocEntry, use: (block: DataBlock) => Promise<T>): Promise<T>;
  /** Throws ARCHIVE_TRUNCATED when a file's TOC places `entry`'s data outside the file's data area (a cut-off file). */
  checkDataOffset(entry: TocEntry): void;
  close(): Promise<void>;
}

export async function openArchive(input: ArchiveInput): Promise<ArchiveReader> {
  const { source, name, file } = await toIterable(input);
  const src = new ByteSource(source);
  try {
    const f = new FieldReader(src);
    const header = await readHeader(f);
    const entries = await readToc(f, header);
    return new Reader(src, f, header, entries, name, file);
  } catch (err) {
    await src.close().catch(() => undefined);
    throw err;
  }
}

function describeMagic(b: Buffer): string {
  const text = b.toString('latin1');
  if (text.startsWith('--') || text.startsWith('SET') || text.startsWith('\n--')) return 'plain SQL text (a pg_dump -Fp script, which has no table of contents to remap instances by)';
  if (b[0] === 0x1f && b[1] === 0x8b) return 'gzip data (decompress it first)';
  if (b[0] === 0x28 && b[1] === 0xb5) return 'zstd data (decompress it first)';
  if (text.startsWith('toc.d')) return 'a tar-format archive';
  return `bytes ${[...b].map((x) => x.toString(16).padStart(2, '0')).join(' ')}`;
}

async function readHeader(f: FieldReader): Promise<ArchiveHeader> {
  const src = f.src;
  if (!(await src.ensure(MAGIC.length))) {
    if (await src.atEnd()) throw new AppError('ARCHIVE_EMPTY', 'the archive is empty (0 bytes): expected the magic "PGDMP" at offset 0', {
      hint: 'the backup was never written (a full disk, a failed copy): use another one; `astore backups list --verify` shows which are whole', exitCode: 2,
    });
  }
  const magic = await src.read(Math.min(MAGIC.length, 5), 'magic "PGDMP"');
  if (!magic.equals(MAGIC)) {
    throw new AppError('ARCHIVE_BAD_MAGIC', `not a pg_dump custom-format archive: expected magic "PGDMP" at offset 0, found ${describeMagic(magic)}`, {
      hint: 'pass a file made by `pg_dump -Fc` (or by `astore backup`)', exitCode: 2, details: { offset: 0 },
    });
  }
  const versionMajor = await src.byte('archive major version');
  const versionMinor = await src.byte('archive minor version');
  const versionRev = versionMajor > 1 || versionMinor > 0 ? await src.byte('archive revision') : 0;
  const version = versionNumber(versionMajor, versionMinor, versionRev);
  const vtext = versionText({ versionMajor, versionMinor, versionRev });
  if (version < OLDEST_READABLE || version > NEWEST_READABLE) {
    throw new AppError('ARCHIVE_UNSUPPORTED_VERSION', `unsupported archive version ${vtext} at offset 5: expected 1.12 to 1.16`, {
      hint: version > NEWEST_READABLE ? 'the archive was made by a newer pg_dump than this reader knows' : 'the archive was made by a pg_dump older than 9.0',
      exitCode: 2, details: { offset: 5, version: vtext },
    });
  }
  let at = src.offset;
  const intSize = await src.byte('integer size');
  if (intSize < 1 || intSize > 8) throw corrupt(at, `integer size ${intSize} (expected 1 to 8; real archives use 4)`);
  at = src.offset;
  const offSize = await src.byte('offset size');
  if (offSize < 1 || offSize > 8) throw corrupt(at, `offset size ${offSize} (expected 1 to 8; real archives use 8)`);
  f.intSize = intSize;
  f.offSize = offSize;
  at = src.offset;
  const format = await src.byte('archive format');
  if (format !== FORMAT_CUSTOM) {
    const kind = format === 3 ? 'tar' : format === 5 ? 'directory' : `unknown (${format})`;
    throw new AppError('ARCHIVE_WRONG_FORMAT', `archive format at offset ${at} is ${kind}, expected 1 (custom, pg_dump -Fc)`, { exitCode: 2, details: { offset: at } });
  }
  at = src.offset;
  let compression: ArchiveHeader['compression'];
  if (version < V1_15) {
    const level = await f.int('compression level');
    if (level < -1 || level > 9) throw corrupt(at, `compression level ${level} (expected -1 to 9)`);
    compression = { algorithm: level === 0 ? 'none' : 'gzip', level };
  } else {
    const alg = await src.byte('compression algorithm');
    const names: CompressionAlgorithm[] = ['none', 'gzip', 'lz4', 'zstd'];
    const algorithm = names[alg];
    if (!algorithm) throw corrupt(at, `compression algorithm ${alg} (expected 0 none, 1 gzip, 2 lz4 or 3 zstd)`);
    compression = { algorithm, level: null };
  }
  const tm: number[] = [];
  for (const field of ['tm_sec', 'tm_min', 'tm_hour', 'tm_mday', 'tm_mon', 'tm_year', 'tm_isdst']) tm.push(await f.int(`creation time field ${field}`));
  const dbname = await f.string('database name');
  const serverVersion = await f.string('server version');
  const pgDumpVersion = await f.string('pg_dump version');
  at = src.offset;
  const tocCount = await f.int('TOC entry count');
  if (tocCount < 0 || tocCount > MAX_TOC_ENTRIES) throw corrupt(at, `implausible TOC entry count ${tocCount}`);
  const [sec, min, hour, mday, mon, year, isdst] = tm as [number, number, number, number, number, number, number];
  return {
    versionMajor, versionMinor, versionRev, intSize, offSize, format, compression,
    created: { sec, min, hour, mday, mon, year, isdst }, dbname, serverVersion, pgDumpVersion, tocCount,
  };
}

async function readToc(f: FieldReader, header: ArchiveHeader): Promise<TocEntry[]> {
  const version = versionNumber(header.versionMajor, header.versionMinor, header.versionRev);
  const entries: TocEntry[] = [];
  const seen = new Set<number>();
  for (let i = 0; i < header.tocCount; i++) {
    const tocOffset = f.src.offset;
    const ctx = `TOC entry ${i + 1} of ${header.tocCount} (starting at offset ${tocOffset})`;
    const dumpId = await f.int(`dumpId of ${ctx}`);
    if (dumpId <= 0) throw corrupt(tocOffset, `${ctx}: dumpId ${dumpId} (expected a positive id)`);
    if (seen.has(dumpId)) throw corrupt(tocOffset, `${ctx}: duplicate dumpId ${dumpId}`);
    seen.add(dumpId);
    const hadDumper = (await f.int(`hadDumper of ${ctx}`)) !== 0;
    const tableoid = await f.string(`tableoid of ${ctx}`);
    const oid = await f.string(`oid of ${ctx}`);
    const tag = await f.string(`tag of ${ctx}`);
    const descAt = f.src.offset;
    const desc = await f.string(`desc of ${ctx}`);
    if (desc === null) throw corrupt(descAt, `${ctx}: object type (desc) is NULL`);
    const sectionAt = f.src.offset;
    const section = await f.int(`section of ${ctx}`);
    if (section < 1 || section > 4) throw corrupt(sectionAt, `${ctx}: section ${section} (expected 1 to 4)`);
    const defn = await f.string(`defn of ${ctx}`);
    const dropStmt = await f.string(`dropStmt of ${ctx}`);
    const copyStmt = await f.string(`copyStmt of ${ctx}`);
    const namespace = await f.string(`namespace of ${ctx}`);
    const tablespace = await f.string(`tablespace of ${ctx}`);
    const tableam = version >= V1_14 ? await f.string(`tableam of ${ctx}`) : null;
    const relkind = version >= V1_16 ? await f.int(`relkind of ${ctx}`) : 0;
    const owner = await f.string(`owner of ${ctx}`);
    const withOids = await f.string(`withOids of ${ctx}`);
    const dependencies: number[] = [];
    for (;;) {
      const depAt = f.src.offset;
      const dep = await f.string(`dependency list of ${ctx}`);
      if (dep === null) break;
      const n = Number(dep);
      if (!/^\d+$/.test(dep)) throw corrupt(depAt, `${ctx}: dependency "${dep.slice(0, 40)}" is not a dumpId`);
      dependencies.push(n);
    }
    const off = await f.offset(`data offset of ${ctx}`);
    const entry: TocEntry = {
      dumpId, hadDumper, tableoid: tableoid ?? '0', oid: oid ?? '0', tag, desc, section, defn, dropStmt, copyStmt,
      namespace, tablespace, tableam, relkind, owner, withOids, dependencies,
      offsetFlag: off.flag, dataOffset: off.flag === OFFSET_SET ? off.position : 0, tocOffset,
    };
    if (desc === 'ENCODING' && defn) {
      const enc = /'([^']*)'/.exec(defn)?.[1];
      const dec = enc ? textDecoder(enc) : undefined;
      if (dec) f.text = dec;
    }
    entries.push(entry);
  }
  return entries;
}

class Reader implements ArchiveReader {
  readonly encoding: string;
  readonly dataStart: number;
  private readonly encodingSource: string;
  private started = false;

  constructor(
    private readonly src: ByteSource,
    private readonly f: FieldReader,
    readonly header: ArchiveHeader,
    readonly entries: TocEntry[],
    readonly name: string,
    private readonly file?: ArchiveFile,
  ) {
    const encEntry = entries.find((e) => e.desc === 'ENCODING');
    const enc = encEntry?.defn;
    this.encoding = (enc && /'([^']*)'/.exec(enc)?.[1]) || 'SQL_ASCII';
    this.encodingSource = encEntry ? `the ENCODING entry at offset ${encEntry.tocOffset}` : 'no ENCODING entry: default';
    this.dataStart = src.offset;
  }

  get offset(): number { return this.src.offset; }

  copyEncoding(): string {
    decoderFor(this.encoding, this.encodingSource);
    return this.encoding.toUpperCase();
  }

  get size(): number | undefined { return this.file?.size; }

  get fileIdentity(): string | undefined { return this.file?.identity; }

  async close(): Promise<void> { await this.src.close(); }

  checkDataOffset(entry: TocEntry): void {
    if (!this.file || entry.offsetFlag !== OFFSET_SET) return;
    const at = entry.dataOffset;
    if (at >= this.dataStart && at < this.file.size) return;
    throw new AppError('ARCHIVE_TRUNCATED', `the TOC places the data of ${describeEntry(entry)} (dumpId ${entry.dumpId}) at offset ${at}, `
      + `${at < this.dataStart ? `inside the TOC (data starts at ${this.dataStart})` : `beyond the end of the file (${this.file.size} bytes)`}`, {
      hint: 'the file is incomplete (interrupted dump or copy) or damaged; use an intact copy of the archive', exitCode: 2, details: { offset: at },
    });
  }

  async readBlockAt<T>(entry: TocEntry, use: (block: DataBlock) => Promise<T>): Promise<T> {
    if (!this.file) {
      throw new AppError('ARCHIVE_NOT_SEEKABLE', `${describeEntry(entry)} cannot be read by offset: the archive is not a regular file (a stream, pipe or device)`, {
        hint: 'save the archive to a file first', exitCode: 2,
      });
    }
    if (!entry.hadDumper || entry.offsetFlag !== OFFSET_SET) {
      throw new AppError('ARCHIVE_NO_OFFSET', `the TOC gives no data offset for ${describeEntry(entry)} (dumpId ${entry.dumpId})`, {
        hint: 'the archive was written to a pipe; read it front to back instead', exitCode: 2,
      });
    }
    this.checkDataOffset(entry);
    const at = entry.dataOffset;
    const changed = (why: string, cause?: unknown): AppError => new AppError('ARCHIVE_CHANGED', `${this.file!.path} ${why} since its table of contents was read`, {
      hint: 'something replaced, rewrote or removed the archive; use a file nothing writes to', exitCode: 2, cause,
    });
    const fh = await open(this.file.path, 'r').catch((err: unknown) => { throw changed(`cannot be opened again (${(err as Error).message})`, err); });
    const st = await fh.stat().catch(async (err: unknown) => { await fh.close(); throw err; });
    if (fileIdentity(st) !== this.file.identity) {
      await fh.close();
      throw changed('is another file, or was modified,');
    }
    const src = new ByteSource(fh.createReadStream({ start: at, highWaterMark: READ_BUFFER }), at);
    try {
      const f = new FieldReader(src);
      f.intSize = this.f.intSize;
      f.offSize = this.f.offSize;
      f.text = this.f.text;
      const found = await readBlockHeader(src, f);
      if (found.dumpId !== entry.dumpId) {
        throw corrupt(at, `the TOC places the data of ${describeEntry(entry)} (dumpId ${entry.dumpId}) here, but this block is for dumpId ${found.dumpId}`);
      }
      checkBlockType(found, entry);
      return await use(new Block(src, f, this.header.compression.algorithm, this.encoding, this.encodingSource, entry, at, entry.desc === 'BLOBS'));
    } finally {
      await src.close().catch(() => undefined);
    }
  }

  async *blocks(): AsyncGenerator<DataBlock> {
    if (this.started) throw new AppError('ARCHIVE_READER_REUSED', 'blocks() can be iterated only once: the reader streams and cannot rewind');
    this.started = true;
    const byId = new Map(this.entries.map((e) => [e.dumpId, e]));
    const pending = new Map(this.entries.filter((e) => e.hadDumper).map((e) => [e.dumpId, e]));
    let current: Block | undefined;
    try {
      for (;;) {
        if (current) await current.finish();
        if (await this.src.atEnd()) break;
        const found = await readBlockHeader(this.src, this.f);
        const { offset, dumpId } = found;
        const entry = byId.get(dumpId);
        if (!entry) throw corrupt(offset, `data block for dumpId ${dumpId}, which is not in the TOC`);
        if (!pending.delete(dumpId)) {
          throw corrupt(offset, entry.hadDumper ? `second data block for dumpId ${dumpId} (${describeEntry(entry)})` : `data block for dumpId ${dumpId} (${describeEntry(entry)}), whose TOC entry has no data`);
        }
        checkBlockType(found, entry);
        current = new Block(this.src, this.f, this.header.compression.algorithm, this.encoding, this.encodingSource, entry, offset, entry.desc === 'BLOBS');
        yield current;
      }
      if (pending.size > 0) {
        const missing = [...pending.values()];
        throw new AppError('ARCHIVE_TRUNCATED', `archive ends at offset ${this.src.offset}: expected ${missing.length} more data block(s), first ${describeEntry(missing[0]!)} (dumpId ${missing[0]!.dumpId})`, {
          hint: 'the file is incomplete (interrupted dump or copy); use an intact copy of the archive', exitCode: 2,
          details: { offset: this.src.offset, missing: missing.map((e) => e.dumpId) },
        });
      }
    } finally {
      await this.src.close().catch(() => undefined);
    }
  }
}

interface BlockHeader { offset: number; type: number; dumpId: number }

async function readBlockHeader(src: ByteSource, f: FieldReader): Promise<BlockHeader> {
  const offset = src.offset;
  const type = await src.byte('data block type');
  if (type !== BLOCK_DATA && type !== BLOCK_BLOBS) {
    throw corrupt(offset, `unknown data block type ${type} (expected 1 = table data or 3 = large objects)`);
  }
  const dumpId = await f.int(`dumpId of the data block at offset ${offset}`);
  return { offset, type, dumpId };
}

function checkBlockType(found: BlockHeader, entry: TocEntry): void {
  const isBlobs = entry.desc === 'BLOBS';
  if (isBlobs !== (found.type === BLOCK_BLOBS)) {
    throw corrupt(found.offset, `data block type ${found.type} for ${describeEntry(entry)} (expected ${isBlobs ? 3 : 1})`);
  }
}

export function describeEntry(e: TocEntry): string {
  return `${e.desc} ${e.namespace ? `${e.namespace}.` : ''}${e.tag ?? ''}`;
}

class Block implements DataBlock {
  readonly kind: 'table-data' | 'blobs';
  readonly dumpId: number;
  storedBytes = 0;
  sawEndMarker = false;
  /** The raw chunk stream that is being read; kept so an abandoned block can be skipped. */
  private raw: AsyncGenerator<Buffer> | undefined;
  private consumed = false;
  private done = false;

  constructor(
    private readonly src: ByteSource,
    private readonly f: FieldReader,
    private readonly algorithm: CompressionAlgorithm,
    private readonly encoding: string,
    private readonly encodingSource: string,
    readonly entry: TocEntry,
    readonly offset: number,
    isBlobs: boolean,
  ) {
    this.kind = isBlobs ? 'blobs' : 'table-data';
    this.dumpId = entry.dumpId;
  }

  /** Yields the stored bytes of one chunk stream, slice by slice, until its zero-length terminator. */
  private async *chunkStream(ctx: string): AsyncGenerator<Buffer> {
    for (;;) {
      const at = this.src.offset;
      const len = await this.f.int(`chunk length in ${ctx}`);
      if (len === 0) return;
      if (len < 0) throw corrupt(at, `negative chunk length ${len} in ${ctx}`);
      let left = len;
      while (left > 0) {
        const b = await this.src.readSome(left);
        if (!b) throw this.src.truncated(`${left} more byte(s) of the ${len}-byte chunk at offset ${at} in ${ctx}`, left);
        left -= b.length;
        this.storedBytes += b.length;
        yield b;
      }
    }
  }

  private claim(kind: DataBlock['kind']): void {
    if (this.kind !== kind) throw new AppError('ARCHIVE_WRONG_BLOCK_KIND', `${describeEntry(this.entry)} is a ${this.kind} block`);
    if (this.consumed) throw new AppError('ARCHIVE_READER_REUSED', `the data of ${describeEntry(this.entry)} was already read: the reader streams and cannot rewind`);
    this.consumed = true;
  }

  private decompress(raw: AsyncGenerator<Buffer>, ctx: string): AsyncGenerator<Buffer> {
    switch (this.algorithm) {
      case 'none': return passThrough(raw);
      case 'gzip': return inflateChunks(raw, ctx, this.offset);
      default:
        throw new AppError('ARCHIVE_COMPRESSION_UNSUPPORTED', `${ctx} is ${this.algorithm}-compressed, which this reader cannot decompress (it reads gzip/zlib and uncompressed archives)`, {
          hint: `re-create the archive with \`pg_dump -Fc -Z gzip\` or \`-Z0\`, or convert it with a pg_restore built with ${this.algorithm}`,
          exitCode: 2, details: { offset: this.offset, compression: this.algorithm },
        });
    }
  }

  payload(): AsyncGenerator<Buffer> {
    this.claim('table-data');
    const ctx = `data block of ${describeEntry(this.entry)} (dumpId ${this.dumpId}, offset ${this.offset})`;
    this.raw = this.chunkStream(ctx);
    const out = this.decompress(this.raw, ctx);
    const self = this;
    return (async function* () {
      for await (const b of out) yield b;
      self.done = true;
    })();
  }

  rows(options: { batchSize?: number } = {}): AsyncGenerator<CopyValue[][]> {
    if (this.entry.copyStmt === null) {
      throw new AppError('ARCHIVE_NOT_COPY_DATA', `${describeEntry(this.entry)} holds INSERT statements (pg_dump --inserts), not COPY rows`, { exitCode: 2 });
    }
    const decoder = decoderFor(this.encoding, this.encodingSource);
    return copyRows(this.payload(), { decoder, batchSize: options.batchSize, onEnd: (saw) => { this.sawEndMarker = saw; } });
  }

  async *largeObjects(): AsyncGenerator<LargeObject> {
    this.claim('blobs');
    const self = this;
    for (;;) {
      const at = this.src.offset;
      const oid = await this.f.oid(`large-object OID in the BLOBS block at offset ${this.offset}`);
      if (oid === 0) break;
      const ctx = `large object ${oid} (at offset ${at})`;
      const raw = this.chunkStream(ctx);
      this.raw = raw;
      let read = false;
      yield {
        oid,
        data: () => {
          if (read) throw new AppError('ARCHIVE_READER_REUSED', `the data of ${ctx} was already read`);
          read = true;
          return self.decompress(raw, ctx);
        },
      };
      await drain(raw);
    }
    this.done = true;
  }

  /** Skips whatever the caller left unread so the next block can be parsed. */
  async finish(): Promise<void> {
    if (this.done) return;
    if (!this.consumed) {
      this.consumed = true;
      if (this.kind === 'table-data') await drain(this.chunkStream(`data block of ${describeEntry(this.entry)} (offset ${this.offset})`));
      else for await (const lo of this.largeObjectsUnclaimed()) void lo;
    } else if (this.raw) {
      await drain(this.raw);
      if (this.kind === 'blobs') for await (const lo of this.largeObjectsUnclaimed()) void lo;
    }
    this.done = true;
  }

  private largeObjectsUnclaimed(): AsyncGenerator<LargeObject> {
    this.consumed = false;
    return this.largeObjects();
  }
}

async function* passThrough(raw: AsyncGenerator<Buffer>): AsyncGenerator<Buffer> {
  // Pull with next() rather than for-await so that a consumer stopping early does not close
  // `raw`: the block must still be skippable afterwards.
  for (;;) {
    const r = await raw.next();
    if (r.done) return;
    yield r.value;
  }
}

async function drain(raw: AsyncGenerator<Buffer>): Promise<void> {
  for (;;) if ((await raw.next()).done) return;
}
