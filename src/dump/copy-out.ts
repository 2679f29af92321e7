/**
 * `COPY … TO STDOUT` read straight off the connection's socket into large pieces.
 *
 * pg-copy-streams hands on one buffer per socket read, which the compressor then glued into
 * 1 MiB pieces: two copies of every byte and a stream of short-lived buffers whose garbage
 * collection cost as much CPU as the copying. Here the payload of each CopyData message is copied
 * once, directly into a piece-sized buffer from a pool, and only full pieces are handed on — ready
 * for the compressor as they are, which gives them back to the pool once compressed.
 *
 * The query is a node-postgres "submittable": the client calls submit() when the connection is
 * free; we then take the socket's data listener away from the protocol parser, read CopyData
 * messages ourselves (pulling, so the socket pauses while the consumer is busy: that is the
 * backpressure), and give the socket back when CopyDone arrives or the server reports an error —
 * the parser then sees CommandComplete/ErrorResponse and ReadyForQuery and finishes the query.
 */
import type { Duplex } from 'node:stream';
import type { BufferPool } from '../archive/index.ts';
import { AppError, toError } from '../errors/index.ts';

/** Protocol message types (PostgreSQL frontend/backend protocol, version 3). */
const COPY_DATA = 0x64; // 'd'
const COPY_DONE = 0x63; // 'c'
const ERROR_RESPONSE = 0x45; // 'E'

interface Connection {
  stream: Duplex;
  query(text: string): void;
}

type DataListener = (chunk: Buffer) => void;

export class CopyOut implements AsyncIterable<Buffer> {
  private connection: Connection | undefined;
  private parserListener: DataListener | undefined;
  private error: Error | undefined;
  private wake: (() => void) | undefined;
  private detached = false;
  /** Header of the next message (type + length), collected across socket reads. */
  private readonly header = Buffer.alloc(5);
  private headerHave = 0;
  /** Type and unread payload bytes of the current message; 0 bytes left means a header comes next. */
  private messageType = 0;
  private messageLeft = 0;
  private piece: Buffer;
  private piecePos = 0;
  private readonly ready: Buffer[] = [];
  private copyDone = false;
  private finished = false;

  /** Pieces come from `pool` and are handed on with it: the consumer gives them back. */
  constructor(readonly text: string, private readonly pool: BufferPool) {
    this.piece = pool.take();
  }

  /** Called by the client when the connection is free for this query. */
  submit(connection: Connection): void {
    this.connection = connection;
    const stream = connection.stream;
    const listeners = stream.listeners('data') as DataListener[];
    if (listeners.length !== 1) {
      this.fail(new AppError('DUMP_COPY_FAILED', `cannot read COPY output: the connection has ${listeners.length} data listeners, expected 1`));
      return;
    }
    this.parserListener = listeners[0];
    stream.removeListener('data', this.parserListener!);
    stream.pause();
    stream.on('readable', this.onReadable);
    connection.query(this.text);
  }

  handleError(err: unknown): void {
    this.fail(toError(err));
  }
  handleCommandComplete(): void {}
  handleReadyForQuery(): void {
    this.finished = true;
    this.notify();
  }

  private fail(err: Error): void {
    this.error ??= err;
    this.detach(Buffer.alloc(0));
    this.notify();
  }

  private readonly onReadable = (): void => this.notify();

  private notify(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  /** Gives the socket back to the protocol parser, with the bytes we read but do not own. */
  private detach(rest: Buffer): void {
    if (this.detached || !this.connection || !this.parserListener) return;
    this.detached = true;
    const stream = this.connection.stream;
    stream.removeListener('readable', this.onReadable);
    stream.on('data', this.parserListener);
    if (rest.length > 0) this.parserListener(rest);
    // Resume after the current tick: the parser's handler may itself pause the stream meanwhile.
    process.nextTick(() => stream.resume());
  }

  /** Parses one socket read: CopyData payloads go into pieces; stops at CopyDone or an error. */
  private parse(chunk: Buffer): void {
    let i = 0;
    while (i < chunk.length) {
      if (this.messageLeft > 0) {
        i = this.messageType === COPY_DATA ? this.copyRows(chunk, i) : this.skip(chunk, i);
        continue;
      }
      // A message header (type byte, length), which may straddle socket reads.
      if (this.headerHave === 0 && chunk[i] === ERROR_RESPONSE) {
        // The parser reads the error (and the ReadyForQuery after it) and calls handleError.
        this.detach(chunk.subarray(i));
        return;
      }
      const n = Math.min(5 - this.headerHave, chunk.length - i);
      chunk.copy(this.header, this.headerHave, i, i + n);
      this.headerHave += n;
      i += n;
      if (this.headerHave < 5) return;
      this.headerHave = 0;
      this.messageType = this.header[0]!;
      this.messageLeft = this.header.readUInt32BE(1) - 4;
      // A length below its own 4 bytes is not PostgreSQL talking: stop, and the connection is closed.
      if (this.messageLeft < 0) throw new AppError('DUMP_COPY_FAILED', `malformed message from the server during COPY (type ${this.messageType}, length ${this.messageLeft + 4})`);
      if (this.messageType === COPY_DONE) {
        // CopyDone is part of the protocol's end of COPY; the parser needs it and what follows.
        this.copyDone = true;
        this.detach(Buffer.concat([this.header, chunk.subarray(i)]));
        return;
      }
    }
  }

  /** Passes over the payload of a message that is not data (CopyOutResponse, NoticeResponse, …). */
  private skip(chunk: Buffer, i: number): number {
    const n = Math.min(this.messageLeft, chunk.length - i);
    this.messageLeft -= n;
    return i + n;
  }

  /**
   * Copies CopyData payloads from `chunk[i…]` into the piece, starting inside a payload and
   * continuing through every further CopyData message whose header is complete. The server sends
   * one message per row, and a Buffer.copy per row costs a view object (garbage) and a call
   * through JavaScript; instead the whole run is copied at once and the rows are then closed up
   * over their 5-byte headers with copyWithin, which allocates nothing. Returns how far in
   * `chunk` it got; anything but a data header is left to parse().
   */
  private copyRows(chunk: Buffer, i: number): number {
    const piece = this.piece;
    const start = this.piecePos;
    const end = start + Math.min(chunk.length - i, piece.length - start);
    chunk.copy(piece, start, i, i + end - start);
    let r = start;
    let w = start;
    let left = this.messageLeft;
    for (;;) {
      const n = Math.min(left, end - r);
      if (w !== r) piece.copyWithin(w, r, r + n);
      w += n;
      r += n;
      left -= n;
      if (left > 0 || end - r < 5 || piece[r] !== COPY_DATA) break;
      // Anything but a whole, well-formed data header is left to parse().
      const length = piece.readUInt32BE(r + 1);
      if (length < 4) break;
      left = length - 4;
      r += 5;
    }
    this.messageLeft = left;
    this.piecePos = w;
    if (w === piece.length) {
      this.ready.push(piece);
      this.piece = this.pool.take();
      this.piecePos = 0;
    }
    return i + (r - start);
  }

  private waitForEvent(): Promise<void> {
    return new Promise((resolve) => { this.wake = resolve; });
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Buffer> {
    while (!this.connection && !this.error) await this.waitForEvent();
    try {
      while (!this.copyDone) {
        if (this.error) throw this.error;
        // Once detached on an ErrorResponse, the parser reads the error and calls handleError.
        const chunk = this.detached ? null : (this.connection!.stream.read() as Buffer | null);
        if (chunk === null) {
          await this.waitForEvent();
          continue;
        }
        this.parse(chunk);
        while (this.ready.length > 0) yield this.ready.shift()!;
      }
    } finally {
      // A consumer that stops early (its output failed) leaves the server in the middle of COPY,
      // with nobody reading the socket: the connection cannot be used again, and a query sent on
      // it (the caller's ROLLBACK) would wait forever. Closing it makes every later query fail at once.
      if (!this.copyDone && !this.detached) this.connection?.stream.destroy();
    }
    while (this.ready.length > 0) yield this.ready.shift()!;
    if (this.piecePos > 0) yield this.piece.subarray(0, this.piecePos);
    else this.pool.give(this.piece);
    this.piecePos = 0;
    // The query is complete once ReadyForQuery arrives (an error after CopyDone still counts).
    while (!this.finished && !this.error) await this.waitForEvent();
    if (this.error) throw this.error;
  }
}
