/**
 * Fixed-size buffers handed round between a producer of table data and the compressor.
 *
 * Every new ArrayBuffer counts as external memory to V8, which starts a full mark-compact for
 * each 64 MB of it: a dump that allocated a fresh 1 MiB piece per MiB of table data spent more
 * CPU in back-to-back garbage collections than in reading the data. Pieces that go round a pool
 * are allocated once per dump.
 *
 * Ownership moves with the buffer: a producer that yields a pool buffer gives it up, and the
 * consumer returns it with give() once nothing reads it any more. give() ignores buffers the pool
 * did not issue, so a consumer may offer every buffer it is done with.
 */
export class BufferPool {
  private readonly free: ArrayBuffer[] = [];
  private readonly issued = new WeakSet<ArrayBuffer>();

  /** `keep` bounds the idle buffers held between uses. */
  constructor(readonly size: number, private readonly keep = 8) {}

  /** A buffer of `size` bytes, contents unspecified. */
  take(): Buffer {
    const ab = this.free.pop();
    if (ab) return Buffer.from(ab, 0, this.size);
    const b = Buffer.allocUnsafeSlow(this.size);
    this.issued.add(b.buffer as ArrayBuffer);
    return b;
  }

  /** Returns a buffer (or any view of one) that take() issued; others are ignored. */
  give(b: Buffer): void {
    const ab = b.buffer as ArrayBuffer;
    if (!this.issued.has(ab) || this.free.length >= this.keep || this.free.includes(ab)) return;
    this.free.push(ab);
  }
}
