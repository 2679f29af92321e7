/**
 * PostgreSQL's COPY text format (what `COPY … TO STDOUT` prints and what pg_dump stores in TABLE
 * DATA blocks): one line per row, TAB between columns, `\N` for NULL, backslash escapes inside
 * values. Every value is text — the type's own output function already ran on the server — so
 * this codec is type-agnostic.
 *
 * Decoding works on one line without its terminating newline. A raw newline can never occur
 * inside a value (it is always written as `\n`), which is why lines can be split on 0x0A before
 * any unescaping.
 */
import { TextDecoder } from 'node:util';
import { AppError } from '../errors/index.ts';

export type CopyValue = string | null;

/** Escapes that COPY writes on output; everything else goes through as-is. */
const OUTPUT_ESCAPES: Record<string, string> = {
  '\\': '\\\\',
  '\t': '\\t',
  '\n': '\\n',
  '\r': '\\r',
  '\b': '\\b',
  '\f': '\\f',
  '\v': '\\v',
};
const NEEDS_ESCAPE = /[\\\t\n\r\b\f\v]/;
const NEEDS_ESCAPE_G = /[\\\t\n\r\b\f\v]/g;

/** Encodes one value for a COPY text line (without separators). */
export function encodeCopyValue(value: CopyValue): string {
  if (value === null) return '\\N';
  if (!NEEDS_ESCAPE.test(value)) return value;
  return value.replace(NEEDS_ESCAPE_G, (c) => OUTPUT_ESCAPES[c]!);
}

/** Encodes one row as a complete COPY text line, newline included. */
export function encodeCopyRow(values: readonly CopyValue[]): string {
  let line = '';
  for (let i = 0; i < values.length; i++) {
    if (i > 0) line += '\t';
    line += encodeCopyValue(values[i]!);
  }
  return line + '\n';
}

const SIMPLE_ESCAPES: Record<string, string> = {
  b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v',
};

function isOctal(c: number): boolean { return c >= 0x30 && c <= 0x37; }
function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

/**
 * Unescapes one field. Octal (`\ooo`, 1–3 digits) and hex (`\xH`, `\xHH`) escapes denote raw
 * bytes — possibly parts of a multi-byte character — so a field containing them is rebuilt as
 * bytes and decoded with the archive's encoding, like the server does.
 */
export function decodeCopyValue(field: string, decoder: TextDecoder = UTF8): CopyValue {
  if (field === '\\N') return null;
  if (field.indexOf('\\') < 0) return field;
  let out = '';
  let bytes: number[] | undefined;
  const flushBytes = () => {
    if (bytes) { out += decoder.decode(Uint8Array.from(bytes)); bytes = undefined; }
  };
  for (let i = 0; i < field.length; i++) {
    const ch = field[i]!;
    if (ch !== '\\') { flushBytes(); out += ch; continue; }
    const next = field[i + 1];
    if (next === undefined) { flushBytes(); out += '\\'; break; } // trailing lone backslash: taken literally, as the server does
    const code = field.charCodeAt(i + 1);
    if (isOctal(code)) {
      let v = code - 0x30; let j = i + 2;
      while (j < i + 4 && j < field.length && isOctal(field.charCodeAt(j))) { v = v * 8 + field.charCodeAt(j) - 0x30; j++; }
      (bytes ??= []).push(v & 0xff);
      i = j - 1;
      continue;
    }
    if (next === 'x' && i + 2 < field.length && hexValue(field.charCodeAt(i + 2)) >= 0) {
      let v = hexValue(field.charCodeAt(i + 2)); let j = i + 3;
      const h2 = j < field.length ? hexValue(field.charCodeAt(j)) : -1;
      if (h2 >= 0) { v = v * 16 + h2; j++; }
      (bytes ??= []).push(v);
      i = j - 1;
      continue;
    }
    flushBytes();
    out += SIMPLE_ESCAPES[next] ?? next; // `\\` → `\`, `\.` → `.`, any other `\c` → `c`
    i++;
  }
  flushBytes();
  return out;
}

export const UTF8 = new TextDecoder('utf-8', { fatal: false });

/** Decodes one COPY text line (no trailing newline) into its values. */
export function decodeCopyLine(line: string, decoder: TextDecoder = UTF8): CopyValue[] {
  const fields = line.split('\t');
  const out = new Array<CopyValue>(fields.length);
  for (let i = 0; i < fields.length; i++) out[i] = decodeCopyValue(fields[i]!, decoder);
  return out;
}

/** Longer than any row of the store (a model's hex text is a few MiB); shorter than V8's longest string. */
const MAX_LINE = 256 << 20;

/**
 * Splits a COPY payload (a stream of byte chunks) into rows. Stops at the `\.` end marker and
 * reports, through `onEnd`, whether one was seen; bytes after the marker (pg_dump writes two
 * extra newlines) are ignored. Rows are yielded in batches to keep per-row overhead low.
 */
export async function* copyRows(
  payload: AsyncIterable<Buffer>,
  options: { decoder?: TextDecoder; batchSize?: number; onEnd?: (sawEndMarker: boolean) => void; maxLine?: number } = {},
): AsyncGenerator<CopyValue[][]> {
  const decoder = options.decoder ?? UTF8;
  const batchSize = options.batchSize ?? 1000;
  const utf8 = decoder.encoding === 'utf-8';
  // The unfinished line, in pieces: joined only once a newline arrives, so a long line costs one
  // copy rather than one per chunk (a line of 256 MiB took half a minute and a gigabyte).
  const maxLine = options.maxLine ?? MAX_LINE;
  let pieces: Buffer[] = [];
  let pieceBytes = 0;
  const hold = (piece: Buffer): void => {
    pieces.push(piece);
    pieceBytes += piece.length;
    if (pieceBytes > maxLine) {
      throw new AppError('ARCHIVE_COPY_DATA_INVALID', `a COPY row is longer than ${maxLine} bytes without a newline: the data is damaged`, {
        hint: 'use an intact copy of the archive', exitCode: 2,
      });
    }
  };
  let batch: CopyValue[][] = [];
  let ended = false;
  for await (const chunk of payload) {
    if (ended) continue; // drain what follows the end marker so the producer can finish
    if (pieces.length > 0 && chunk.indexOf(0x0a) < 0) { hold(chunk); continue; }
    const buf = pieces.length > 0 ? Buffer.concat([...pieces, chunk]) : chunk;
    pieces = [];
    pieceBytes = 0;
    let start = 0;
    for (;;) {
      const nl = buf.indexOf(0x0a, start);
      if (nl < 0) break;
      if (nl - start === 2 && buf[start] === 0x5c && buf[start + 1] === 0x2e) { ended = true; break; }
      const line = utf8 ? buf.toString('utf8', start, nl) : decoder.decode(buf.subarray(start, nl));
      batch.push(decodeCopyLine(line, decoder));
      start = nl + 1;
      if (batch.length >= batchSize) { yield batch; batch = []; }
    }
    if (!ended && start < buf.length) hold(Buffer.from(buf.subarray(start)));
  }
  const pending = Buffer.concat(pieces);
  if (pending.length > 0 && !ended) {
    // A last line without newline is only legal as the end marker itself.
    if (pending.length === 2 && pending[0] === 0x5c && pending[1] === 0x2e) ended = true;
    else {
      throw new AppError('ARCHIVE_COPY_DATA_INVALID', `COPY data ends in the middle of a row (${pending.length} bytes without a terminating newline)`);
    }
  }
  if (batch.length > 0) yield batch;
  options.onEnd?.(ended);
}
