/**
 * Parallel zlib compression of one data block, in the manner of pigz: the payload is cut into
 * pieces that are deflated independently on libuv's thread pool (several at once, while the main
 * thread keeps reading input), each primed with the previous piece's last 32 KiB as dictionary so
 * the ratio matches a single-threaded deflate. Every piece but the last ends with a sync flush, so
 * the raw outputs concatenate into one deflate stream; a zlib header and the Adler-32 of the whole
 * payload make it the single complete zlib stream per block that pg_restore requires.
 */
import { constants, deflate, deflateRaw, type ZlibOptions } from 'node:zlib';

const WINDOW = 32 * 1024;

export interface DeflateOptions {
  /** zlib level: -1 (default, i.e. 6) or 1–9. */
  level: number;
  /** Uncompressed bytes per piece. */
  pieceSize?: number;
  /** Pieces compressed concurrently. */
  parallelism?: number;
  /** zlib strategy (Z_DEFAULT_STRATEGY unless given). */
  strategy?: number;
}

/**
 * Output buffer for one piece's deflate. zlib's default 16 KiB buffer costs a thread-pool round
 * trip, a JS callback and a slice per 16 KiB of output; 256 KiB holds a whole compressed 1 MiB
 * piece of anything that compresses 4:1 or better, in one round trip.
 */
const OUT_CHUNK = 256 * 1024;

function deflatePiece(piece: Buffer, options: ZlibOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => deflateRaw(piece, { ...options, chunkSize: OUT_CHUNK }, (err, out) => (err ? reject(err) : resolve(out))));
}

/**
 * Adler-32 of one piece, computed on the thread pool: a level-0 zlib stream is a plain copy of the
 * input followed by its Adler-32, so this costs about a memcpy and keeps the main thread free. The
 * output buffer holds the whole stream (stored blocks add 5 bytes per 64 KiB), so it is one round trip.
 */
function adlerOfPiece(piece: Buffer): Promise<number> {
  const chunkSize = piece.length + (piece.length >>> 10) + 64;
  return new Promise((resolve, reject) => deflate(piece, { level: 0, chunkSize }, (err, out) => (err ? reject(err) : resolve(out.readUInt32BE(out.length - 4)))));
}

const ADLER_BASE = 65521;

/** Adler-32 of the concatenation A‖B from adler(A), adler(B) and |B| (RFC 1950 sums are linear in the data). */
export function adlerCombine(a1: number, a2: number, len2: number): number {
  const rem = len2 % ADLER_BASE;
  const s1a = a1 & 0xffff; const s2a = a1 >>> 16;
  const s1b = a2 & 0xffff; const s2b = a2 >>> 16;
  const sum1 = (s1a + s1b + ADLER_BASE - 1) % ADLER_BASE;
  const sum2 = ((rem * s1a) % ADLER_BASE + s2a + s2b + ADLER_BASE - rem) % ADLER_BASE;
  return ((sum2 << 16) | sum1) >>> 0;
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

/**
 * Compresses `input` into one zlib stream, yielding compressed pieces in order. Finished pieces
 * are handed on as soon as every piece before them is out, so the output keeps flowing while the
 * thread pool works; input is pulled only while fewer than `parallelism` pieces are in flight,
 * which is the backpressure.
 */
export async function* deflateParallel(input: AsyncIterable<Buffer>, options: DeflateOptions): AsyncGenerator<Buffer> {
  const level = options.level;
  const pieceSize = options.pieceSize ?? 1024 * 1024;
  const parallelism = options.parallelism ?? 3;
  let adler = 1; // Adler-32 of the empty input
  interface Job { data: Promise<Buffer>; adler: Promise<number>; length: number; done: boolean }
  const inFlight: Job[] = [];
  let dictionary: Buffer | undefined;
  let first = true;
  let parts: Buffer[] = [];
  let size = 0;

  const launch = (piece: Buffer, last: boolean) => {
    const opts: ZlibOptions = { level, strategy: options.strategy ?? constants.Z_DEFAULT_STRATEGY, finishFlush: last ? constants.Z_FINISH : constants.Z_SYNC_FLUSH };
    if (dictionary) opts.dictionary = dictionary;
    const data = deflatePiece(piece, opts);
    const sum = adlerOfPiece(piece);
    const job: Job = { data, adler: sum, length: piece.length, done: false };
    // Awaited in order below; a rejection is seen there, so none goes unhandled meanwhile.
    Promise.all([data, sum]).then(() => { job.done = true; }, () => { job.done = true; });
    inFlight.push(job);
    dictionary = piece.length >= WINDOW ? piece.subarray(piece.length - WINDOW) : Buffer.concat([dictionary ?? Buffer.alloc(0), piece]).subarray(-WINDOW);
  };
  const emit = async (): Promise<Buffer> => {
    const job = inFlight.shift()!;
    const out = await job.data;
    adler = adlerCombine(adler, await job.adler, job.length);
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
        while (inFlight.length >= parallelism || inFlight[0]?.done) {
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
  const trailer = Buffer.alloc(4);
  trailer.writeUInt32BE(adler);
  yield trailer;
}
