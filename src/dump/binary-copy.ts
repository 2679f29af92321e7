/**
 * COPY text from binary COPY, for tables with bytea columns.
 *
 * In text COPY the server hex-encodes every bytea value and then scans each hex digit for
 * characters to escape: for a table of large binary values that is most of the dump's server CPU
 * (about 3 s of 4.5 s in bench:backup), and twice the bytes on the socket. Such tables are read as
 * `COPY (SELECT …) TO STDOUT (FORMAT binary)` instead, the bytea columns raw and every other
 * column as `col::text` — chosen only where that cast is the type's own output function (see
 * planDump) — and this module writes exactly the line text COPY would have written.
 */
import type { BufferPool } from '../archive/index.ts';
import { AppError } from '../errors/index.ts';

const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');
/** Raw bytes hex-encoded per step (output 2x): keeps each step's temporary string small. */
const HEX_STEP = 16 * 1024;

/** COPY text escapes by byte (UTF-8 continuation bytes are >= 0x80, so never escaped). */
const ESCAPES = [[0x5c, 0x5c], [0x09, 0x74], [0x0a, 0x6e], [0x0d, 0x72], [0x08, 0x62], [0x0c, 0x66], [0x0b, 0x76]] as const;
const ESCAPE = new Uint8Array(256);
for (const [c, e] of ESCAPES) ESCAPE[c] = e;
const ESCAPED_BYTES = ESCAPES.map(([c]) => c);
/** Below this length the per-byte loop is cheaper than the native searches and a copy. */
const CLEAN_CHECK_MIN = 16;
/** bytea values up to this size are hex-encoded through a table (no temporary string). */
const HEX_TABLE_MAX = 4096;
/** ASCII hex digit pairs by byte value: HEX[2b], HEX[2b + 1]. */
const HEX = Buffer.from(Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0')).join(''), 'latin1');

/**
 * Converts binary COPY output (`bytea[i]` tells which columns are raw bytea, the others being
 * text) into COPY text lines. Input buffers go back to `pool` once read; output is written into
 * the pool's buffers (whole compressor pieces, so they need no gluing) and handed on with it.
 */
export async function* copyTextFromBinary(input: AsyncIterable<Buffer>, bytea: readonly boolean[], pool: BufferPool): AsyncGenerator<Buffer> {
  let out = pool.take();
  let pos = 0;
  const full: Buffer[] = [];
  const room = (n: number): void => {
    if (pos + n <= out.length) return;
    if (pos > 0) full.push(out.subarray(0, pos));
    else pool.give(out);
    out = n <= pool.size ? pool.take() : Buffer.allocUnsafe(n);
    pos = 0;
  };
  const put = (b: number): void => { room(1); out[pos++] = b; };

  // Parser state: fixed-size header items are collected in `carry` across chunk boundaries.
  const carry = Buffer.alloc(SIGNATURE.length + 8);
  let need = SIGNATURE.length + 8;
  let have = 0;
  let state: 'header' | 'ext' | 'count' | 'len' | 'data' | 'end' = 'header';
  let remaining = 0; // bytes left in the current extension area or field
  let field = 0;
  let fields = 0;

  const fieldStart = (len: number): void => {
    if (field > 0) put(0x09);
    if (len === -1) { room(2); out[pos++] = 0x5c; out[pos++] = 0x4e; return; }
    if (bytea[field]) { room(3); out[pos++] = 0x5c; out[pos++] = 0x5c; out[pos++] = 0x78; }
  };
  // Where each escaped byte next occurs in the current chunk (-1: not searched yet; the chunk's
  // length: nowhere further on), so that the check "does this value need escaping" costs one
  // native search per occurrence, not seven per value.
  let chunk: Buffer = Buffer.alloc(0);
  const nextAt = new Array<number>(ESCAPED_BYTES.length).fill(-1);
  const clean = (start: number, end: number): boolean => {
    for (let k = 0; k < ESCAPED_BYTES.length; k++) {
      let at = nextAt[k]!;
      if (at < start) {
        at = chunk.indexOf(ESCAPED_BYTES[k]!, start);
        nextAt[k] = at = at === -1 ? chunk.length : at;
      }
      if (at < end) return false;
    }
    return true;
  };
  const fieldData = (start: number, end: number): void => {
    if (bytea[field]) {
      if (end - start <= HEX_TABLE_MAX) {
        room(2 * (end - start));
        for (let k = start; k < end; k++) {
          const b = chunk[k]! << 1;
          out[pos++] = HEX[b]!;
          out[pos++] = HEX[b + 1]!;
        }
        return;
      }
      for (let i = start; i < end; i += HEX_STEP) {
        const stop = Math.min(end, i + HEX_STEP);
        room(2 * (stop - i));
        pos += out.write(chunk.toString('hex', i, stop), pos, 'latin1');
      }
      return;
    }
    room(2 * (end - start));
    // Most text values contain nothing to escape: the native byte searches behind clean() prove
    // that far faster than the per-byte loop below, which then only runs for values that need it.
    if (end - start >= CLEAN_CHECK_MIN && clean(start, end)) {
      pos += chunk.copy(out, pos, start, end);
      return;
    }
    for (let i = start; i < end; i++) {
      const c = chunk[i]!;
      const e = ESCAPE[c]!;
      if (e === 0) out[pos++] = c;
      else { out[pos++] = 0x5c; out[pos++] = e; }
    }
  };
  const fieldEnd = (): void => {
    field++;
    if (field === fields) { put(0x0a); state = 'count'; need = 2; }
    else { state = 'len'; need = 4; }
    have = 0;
  };
  const bad = (what: string): AppError => new AppError('DUMP_BINARY_COPY', `unexpected binary COPY data from the server: ${what}`, { exitCode: 1 });

  for await (chunk of input) {
    nextAt.fill(-1);
    let i = 0;
    while (i < chunk.length) {
      if (state === 'data' || state === 'ext') {
        const n = Math.min(remaining, chunk.length - i);
        if (state === 'data') fieldData(i, i + n);
        i += n;
        remaining -= n;
        if (remaining === 0) {
          if (state === 'data') fieldEnd();
          else { state = 'count'; need = 2; have = 0; }
        }
        continue;
      }
      if (state === 'end') throw bad('bytes after the trailer');
      // A header item (row field count, field length) is read where it lies when it is whole in
      // this chunk; only one cut by a chunk boundary is gathered in `carry`.
      let item: Buffer = carry;
      let at = 0;
      if (have === 0 && chunk.length - i >= need) {
        item = chunk;
        at = i;
        i += need;
      } else {
        const n = Math.min(need - have, chunk.length - i);
        chunk.copy(carry, have, i, i + n);
        have += n;
        i += n;
        if (have < need) continue;
      }
      if (state === 'header') {
        if (!item.subarray(at, at + SIGNATURE.length).equals(SIGNATURE)) throw bad('no PGCOPY signature');
        remaining = item.readUInt32BE(at + SIGNATURE.length + 4);
        state = remaining > 0 ? 'ext' : 'count';
        need = 2; have = 0;
      } else if (state === 'count') {
        const count = item.readInt16BE(at);
        if (count === -1) { state = 'end'; continue; }
        if (count !== bytea.length) throw bad(`${count} fields in a row, expected ${bytea.length}`);
        fields = count; field = 0;
        state = 'len'; need = 4; have = 0;
      } else {
        const len = item.readInt32BE(at);
        have = 0;
        fieldStart(len);
        if (len <= 0) fieldEnd();
        else { state = 'data'; remaining = len; }
      }
    }
    pool.give(chunk);
    if (full.length > 0) { yield* full; full.length = 0; }
  }
  if (state !== 'end') throw bad('it ended before the trailer');
  if (pos > 0) yield out.subarray(0, pos);
  else pool.give(out);
}
