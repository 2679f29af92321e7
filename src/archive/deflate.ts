/**
 * Parallel zlib compression of one data block, in the manner of pigz: the payload is cut into
 * pieces that are deflated independently on libuv's thread pool (several at once, while the main
 * thread keeps reading input), each primed with the previous piece's last 32 KiB as dictionary so
 * the ratio matches a single-threaded deflate. Every piece but the last ends with a sync flush, so
 * the raw outputs concatenate into one deflate stream; a zlib header and the Adler-32 of the whole
 * payload make it the single complete zlib stream per block that pg_restore requires.
 */
import { constants, deflateRaw, type ZlibOptions } from 'node:zlib';

const WINDOW = 32 * 1024;

export interface DeflateOptions {
  /** zlib level: -1 (default, i.e. 6) or 1–9. */
  level: number;
  /** Uncompressed bytes per piece. */
  pieceSize?: number;
  /** Pieces compressed concurrently. */
  parallelism?: number;
}

function deflatePiece(piece: Buffer, options: ZlibOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => deflateRaw(piece, options, (err, out) => (err ? reject(err) : resolve(out))));
}

/** zlib header (RFC 1950): deflate with 32 KiB window; FLEVEL mirrors the level, FCHECK makes it divisible by 31. */
export function zlibHeader(level: number): Buffer {
  const l = level === -1 ? 6 : level;
  const flevel = l <= 1 ? 0 : l <= 5 ? 1 : l === 6 ? 2 : 3;
  const cmf = 0x78;
  let flg = flevel << 6;
  flg += 31 - ((cmf * 256 + flg) % 31);
  return Buffer.from([cmf, flg]);
}

/** Running Adler-32 (RFC 1950). Sums are reduced every 5552 bytes, the most that cannot overflow 2^53 here. */
export class Adler32 {
  private a = 1;
  private b = 0;
  update(buf: Uint8Array): void {
    let a = this.a; let b = this.b;
    const n = buf.length;
    let i = 0;
    while (i < n) {
      const end = Math.min(i + 5552, n);
      for (; i < end; i++) { a += buf[i]!; b += a; }
      a %= 65521; b %= 65521;
    }
    this.a = a; this.b = b;
  }
  digest(): Buffer {
    const out = Buffer.alloc(4);
    out.writeUInt32BE(((this.b << 16) | this.a) >>> 0);
    return out;
  }
}

/**
 * Compresses `input` into one zlib stream, yielding compressed pieces in order. Input is pulled
 * only while fewer than `parallelism` pieces are in flight, which is the backpressure.
 */
export async function* deflateParallel(input: AsyncIterable<Buffer>, options: DeflateOptions): AsyncGenerator<Buffer> {
  const level = options.level;
  const pieceSize = options.pieceSize ?? 1024 * 1024;
  const parallelism = options.parallelism ?? 3;
  const adler = new Adler32();
  const inFlight: Array<Promise<Buffer>> = [];
  let dictionary: Buffer | undefined;
  let first = true;
  let parts: Buffer[] = [];
  let size = 0;

  const launch = (piece: Buffer, last: boolean) => {
    adler.update(piece);
    const opts: ZlibOptions = { level, finishFlush: last ? constants.Z_FINISH : constants.Z_SYNC_FLUSH };
    if (dictionary) opts.dictionary = dictionary;
    const p = deflatePiece(piece, opts);
    p.catch(() => undefined); // awaited in order below; avoid an unhandled rejection meanwhile
    inFlight.push(p);
    dictionary = piece.length >= WINDOW ? piece.subarray(piece.length - WINDOW) : Buffer.concat([dictionary ?? Buffer.alloc(0), piece]).subarray(-WINDOW);
  };
  const emit = async (): Promise<Buffer> => {
    const out = await inFlight.shift()!;
    if (first) { first = false; return Buffer.concat([zlibHeader(level), out]); }
    return out;
  };

  for await (const chunk of input) {
    let c = chunk;
    while (c.length > 0) {
      const take = Math.min(pieceSize - size, c.length);
      parts.push(c.subarray(0, take));
      size += take;
      c = c.subarray(take);
      if (size === pieceSize) {
        launch(parts.length === 1 ? parts[0]! : Buffer.concat(parts, size), false);
        parts = []; size = 0;
        while (inFlight.length >= parallelism) {
          const out = await emit();
          if (out.length > 0) yield out;
        }
      }
    }
  }
  launch(Buffer.concat(parts, size), true);
  while (inFlight.length > 0) {
    const out = await emit();
    if (out.length > 0) yield out;
  }
  yield adler.digest();
}
