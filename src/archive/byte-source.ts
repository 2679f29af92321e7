/**
 * A pull-based reader over a stream of byte chunks (a file or a pipe such as stdin) that knows
 * its absolute offset. It never seeks, so it works the same on non-seekable input, and it only
 * holds the chunk it is working on plus at most one short carry-over for fields that straddle
 * chunk boundaries: memory stays flat however large the archive is.
 */
import { AppError } from '../errors/index.ts';

const EMPTY = Buffer.alloc(0);

export class ByteSource {
  private readonly iterator: AsyncIterator<Buffer | Uint8Array | string>;
  private buf: Buffer = EMPTY;
  private pos = 0;
  private exhausted = false;
  /** Absolute offset (from the start of the archive) of `buf[0]`. */
  private bufStart = 0;

  /** `start`: the absolute offset of the input's first byte (a file read from the middle). */
  constructor(input: AsyncIterable<Buffer | Uint8Array | string>, start = 0) {
    this.iterator = input[Symbol.asyncIterator]();
    this.bufStart = start;
  }

  /** Absolute offset of the next unread byte. */
  get offset(): number { return this.bufStart + this.pos; }

  private get available(): number { return this.buf.length - this.pos; }

  /** Pulls more input; returns false at end of input. */
  private async pull(): Promise<boolean> {
    if (this.exhausted) return false;
    for (;;) {
      const r = await this.iterator.next();
      if (r.done) { this.exhausted = true; return false; }
      const next = typeof r.value === 'string' ? Buffer.from(r.value) : Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength);
      if (next.length === 0) continue;
      if (this.available === 0) {
        this.bufStart += this.buf.length;
        this.buf = next;
      } else {
        const rest = this.buf.subarray(this.pos);
        this.bufStart += this.pos;
        this.buf = Buffer.concat([rest, next]);
      }
      this.pos = 0;
      return true;
    }
  }

  /** Makes at least `n` bytes available; false if input ends first. */
  async ensure(n: number): Promise<boolean> {
    while (this.available < n) if (!(await this.pull())) return false;
    return true;
  }

  /** True when no byte is left. */
  async atEnd(): Promise<boolean> {
    return this.available === 0 && !(await this.ensure(1));
  }

  truncated(what: string, need: number): AppError {
    return new AppError('ARCHIVE_TRUNCATED',
      `archive ends at offset ${this.bufStart + this.buf.length}: expected ${what} (${need} byte${need === 1 ? '' : 's'} at offset ${this.offset}), got ${this.available === 0 ? 'end of file' : `only ${this.available}`}`,
      { hint: 'the file is incomplete (interrupted dump or copy); use an intact copy of the archive', exitCode: 2, details: { offset: this.offset, expected: what } });
  }

  /** Reads exactly `n` bytes (a view into the internal buffer; copy it to keep it). */
  async read(n: number, what: string): Promise<Buffer> {
    if (this.available < n && !(await this.ensure(n))) throw this.truncated(what, n);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  async byte(what: string): Promise<number> {
    if (this.available < 1 && !(await this.ensure(1))) throw this.truncated(what, 1);
    return this.buf[this.pos++]!;
  }

  /** Returns between 1 and `max` bytes without copying, or undefined at end of input. */
  async readSome(max: number): Promise<Buffer | undefined> {
    if (this.available === 0 && !(await this.pull())) return undefined;
    const n = Math.min(max, this.available);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** Stops reading; lets a file stream close early. */
  async close(): Promise<void> {
    await this.iterator.return?.();
  }
}
