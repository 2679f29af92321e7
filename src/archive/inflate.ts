/**
 * Decompresses one zlib stream delivered as chunks, with backpressure in both directions: input
 * is pulled only when the consumer wants more output, and zlib stops once a few output buffers
 * wait unconsumed. Inflation runs on libuv's thread pool, so it overlaps with parsing and writing
 * on the main thread: while the consumer handles one buffer, zlib already fills the next.
 *
 * It also enforces the format's rule that a block holds exactly one complete zlib stream: bytes
 * after the stream's end (which make pg_restore loop forever) and a stream that stops early are
 * both reported as corruption.
 */
import { createInflate } from 'node:zlib';
import { AppError } from '../errors/index.ts';

/**
 * Output buffer size. Every full buffer is a round trip from the thread pool to the main thread
 * (and a fresh allocation), during which zlib idles; 1 MiB makes that cost negligible next to
 * inflating it (pg_dump's 4 KiB chunks inflate ~15% slower with 128 KiB buffers).
 */
const OUTPUT_BUFFER = 1 << 20;
/** Input is handed to zlib in batches of about this size: one thread-pool job per batch instead of per 4 KiB chunk. */
const BATCH = 1 << 20;
/** zlib pauses when this much output waits for the consumer, so memory stays flat however well the data compresses. */
const MAX_QUEUED = 4 * OUTPUT_BUFFER;

export async function* inflateChunks(raw: AsyncGenerator<Buffer>, ctx: string, blockOffset: number): AsyncGenerator<Buffer> {
  const inflate = createInflate({ chunkSize: OUTPUT_BUFFER });
  const out: Buffer[] = [];
  let queued = 0;
  let failure: Error | undefined;
  let ended = false;
  let wake: (() => void) | undefined;
  const notify = () => { const w = wake; wake = undefined; w?.(); };
  inflate.on('data', (b: Buffer) => {
    out.push(b);
    queued += b.length;
    if (queued >= MAX_QUEUED) inflate.pause();
    notify();
  });
  inflate.on('error', (e: Error) => { failure = e; notify(); });
  inflate.on('end', () => { ended = true; notify(); });
  const fail = (e: Error): AppError => new AppError('ARCHIVE_CORRUPT',
    `corrupt archive: could not decompress the ${ctx}: ${e.message}`,
    { hint: 'the archive is damaged; use an intact copy', exitCode: 2, details: { offset: blockOffset } });
  const take = (): Buffer => {
    const b = out.shift()!;
    queued -= b.length;
    // Resume before the consumer gets the buffer, so zlib works while it is being handled.
    if (inflate.isPaused() && queued < MAX_QUEUED) inflate.resume();
    return b;
  };

  let fed = 0;
  let inputDone = false;
  let pendingWrites = 0;
  try {
    while (!ended) {
      if (failure) throw fail(failure);
      while (out.length > 0) yield take();
      if (!inputDone && pendingWrites < 2) {
        const batch: Buffer[] = [];
        let size = 0;
        while (size < BATCH) {
          const r = await raw.next();
          if (r.done) { inputDone = true; break; }
          batch.push(r.value);
          size += r.value.length;
        }
        if (size > 0) {
          fed += size;
          pendingWrites++;
          inflate.write(batch.length === 1 ? batch[0]! : Buffer.concat(batch, size), () => { pendingWrites--; notify(); });
        }
        if (inputDone) {
          if (fed === 0) throw fail(new Error('the block has no compressed data at all (expected one complete zlib stream)'));
          inflate.end();
        }
        continue;
      }
      // notify() only wakes a waiter that exists. While the consumer held this generator at a
      // yield, 'end' (or 'error') may already have fired with nobody waiting: sleeping now would
      // wait for an event that has passed, and the consumer (COPY) would wait for us forever.
      if (ended || failure) continue;
      await new Promise<void>((resolve) => { wake = resolve; });
    }
    if (failure) throw fail(failure);
    while (out.length > 0) yield take();
    if (inflate.bytesWritten < fed) {
      throw fail(new Error(`${fed - inflate.bytesWritten} byte(s) follow the end of the zlib stream (expected exactly one stream per block)`));
    }
  } finally {
    inflate.destroy();
  }
}
