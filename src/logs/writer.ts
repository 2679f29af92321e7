/**
 * Writes message logs off the request path: /message hands its turn to `record`, which only
 * serialises and queues it; the queue is written in batches, one INSERT per batch (one round trip
 * for up to `batchSize` turns instead of one per turn). Each turn is serialised as it is recorded
 * and batches are small, so no flush stalls the event loop (a 1 MB JSON.stringify of a large batch
 * showed up as tens of milliseconds in /message's p99). While the database is unreachable the queue keeps up
 * to `maxQueued` turns (and `maxQueuedBytes` of them, so large contexts cannot exhaust the heap) and
 * retries; beyond that the oldest are dropped and the loss is logged with
 * its count — the logs are a record of traffic, and answering traffic matters more.
 *
 * It also enforces retention: logs older than `retentionDays` are deleted once an hour.
 */
import type pg from 'pg';

export interface LogEntry {
  log_id: string;
  workspace_id: string;
  request_timestamp: string;
  response_timestamp: string;
  language: string;
  customer_id: string | null;
  request: unknown;
  response: unknown;
}

export interface LogWriterOptions {
  /** Most turns one INSERT writes. */
  batchSize?: number;
  /** Longest a turn waits in the queue before its batch is written. */
  flushMs?: number;
  maxQueued?: number;
  /** Most serialised turns (in UTF-16 units, about bytes) the queue holds. */
  maxQueuedBytes?: number;
  /** 0: keep logs forever. */
  retentionDays?: number;
  retentionEveryMs?: number;
  warn?(message: string, err?: unknown): void;
}

// json_to_recordset: the batch travels as one parameter, whatever its size. A workspace deleted
// after its turn was answered has no row left to log against: those turns are skipped, not an
// error that would lose the rest of the batch. The workspaces are looked up by id (`= any`, an
// index scan): a semi-join against the recordset, whose size the planner cannot know, was planned
// as a scan of every workspace, per batch.
const INSERT = `
  with known as (select id from workspaces where id = any($2::uuid[]))
  insert into message_logs (log_id, workspace_id, request_timestamp, response_timestamp, language, customer_id, request, response)
  select x.log_id, x.workspace_id, x.request_timestamp, x.response_timestamp, x.language, x.customer_id, x.request, x.response
    from json_to_recordset($1::json) as x(log_id uuid, workspace_id uuid, request_timestamp timestamptz, response_timestamp timestamptz,
                                         language text, customer_id text, request json, response json)
    join known k on k.id = x.workspace_id
  on conflict (log_id) do nothing`;

export class LogWriter {
  readonly #pool: pg.Pool;
  readonly #batchSize: number;
  readonly #flushMs: number;
  readonly #maxQueued: number;
  readonly #maxQueuedBytes: number;
  #queuedBytes = 0;
  readonly #retentionDays: number;
  readonly #retentionEveryMs: number;
  readonly #warn: (message: string, err?: unknown) => void;
  /** Serialised entries, with the workspace each belongs to. */
  #queue: Queued[] = [];
  #timer: NodeJS.Timeout | undefined;
  #retention: NodeJS.Timeout | undefined;
  #writing: Promise<void> | undefined;
  #dropped = 0;
  #failing = false;
  #closed = false;
  /** Sequence number of the last turn recorded. */
  #seq = 0;

  constructor(pool: pg.Pool, opts: LogWriterOptions = {}) {
    this.#pool = pool;
    this.#batchSize = opts.batchSize ?? 200;
    this.#flushMs = opts.flushMs ?? 50;
    this.#maxQueued = opts.maxQueued ?? 20_000;
    this.#maxQueuedBytes = opts.maxQueuedBytes ?? 64 * 1024 * 1024;
    this.#retentionDays = opts.retentionDays ?? 0;
    this.#retentionEveryMs = opts.retentionEveryMs ?? 3_600_000;
    this.#warn = opts.warn ?? (() => {});
  }

  /** Starts the retention timer (the first pass runs at once). */
  start(): void {
    if (this.#retentionDays <= 0 || this.#retention) return;
    const prune = (): void => { this.prune().catch((err) => this.#warn('deleting expired message logs failed', err)); };
    prune();
    this.#retention = setInterval(prune, this.#retentionEveryMs);
    this.#retention.unref();
  }

  record(entry: LogEntry): void {
    const json = JSON.stringify(entry);
    this.#queue.push({ json, workspace: entry.workspace_id, seq: ++this.#seq });
    this.#queuedBytes += json.length;
    // The oldest go first; the turn just recorded stays, however large.
    while (this.#queue.length > 1 && (this.#queue.length > this.#maxQueued || this.#queuedBytes > this.#maxQueuedBytes)) {
      this.#queuedBytes -= this.#queue.shift()!.json.length;
      this.#dropped++;
    }
    if (this.#queue.length >= this.#batchSize) this.#kick(0);
    else this.#kick(this.#flushMs);
  }

  /**
   * Writes everything recorded so far (tests, shutdown, user_data deletion); turns recorded while
   * it runs are left to the timer, so it ends under steady traffic too. Rejects if the database
   * refuses it.
   */
  async flush(): Promise<void> {
    const upTo = this.#seq;
    try {
      // One write at a time: a write that ends schedules the next (a timer), and that timer may fire
      // while this loop writes; it then finds a write running and leaves the queue to this loop.
      for (;;) {
        if (this.#writing) { await this.#writing; continue; }
        if (!this.#queue[0] || this.#queue[0].seq > upTo) break;
        clearTimeout(this.#timer);
        this.#timer = undefined;
        await this.#write(true);
      }
    } finally {
      // What is left (recorded meanwhile, or kept after a failure) goes on by the timer.
      if (this.#queue.length > 0) this.#kick(this.#failing ? 1000 : this.#flushMs);
    }
  }

  async prune(): Promise<number> {
    if (this.#retentionDays <= 0) return 0;
    const r = await this.#pool.query(`delete from message_logs where request_timestamp < now() - make_interval(days => $1)`, [this.#retentionDays]);
    return r.rowCount ?? 0;
  }

  /** Stops the timers and writes what is queued (errors are logged: the process is going away). */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#retention);
    this.#retention = undefined;
    try {
      await this.flush();
    } catch (err) {
      this.#warn(`${this.#queue.length} message logs were not written at shutdown`, err);
    }
  }

  #kick(delay: number): void {
    if (this.#writing || this.#closed) return; // the running write (or close's flush) writes the rest
    if (this.#timer && delay > 0) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      // A write started meanwhile (flush) goes on with the queue; two at once would let flush
      // return, and close end the pool, while the other is still writing.
      if (!this.#writing) this.#write(false).catch(() => {});
    }, delay);
  }

  async #write(throwOnError: boolean): Promise<void> {
    const batch = this.#queue.splice(0, this.#batchSize);
    for (const e of batch) this.#queuedBytes -= e.json.length;
    if (batch.length === 0) return;
    const run = (async () => {
      try {
        await this.#insert(batch);
        if (this.#failing) this.#warn('message logs are being written again');
        this.#failing = false;
      } catch (err) {
        // The database answered, but something in the batch is unwritable: find it, write the rest.
        // Kept, it would block every later turn behind it until the queue overflowed.
        const { rest, error } = refusedData(err) ? await this.#oneByOne(batch) : { rest: batch, error: err };
        if (rest.length === 0) this.#failing = false;
        else {
          // Back in front of the queue, in order, for the next attempt.
          this.#queue.unshift(...rest);
          for (const e of rest) this.#queuedBytes += e.json.length;
          if (!this.#failing) this.#warn('writing message logs failed; they are kept in memory and retried', error);
          this.#failing = true;
          if (throwOnError) throw error;
        }
      }
      if (this.#dropped > 0) {
        this.#warn(`${this.#dropped} message logs were dropped: more than ${this.#maxQueued} (or ${this.#maxQueuedBytes} bytes of them) were waiting for the database`);
        this.#dropped = 0;
      }
    })();
    this.#writing = run;
    try {
      await run;
    } finally {
      if (this.#writing === run) this.#writing = undefined;
      if (this.#queue.length > 0 && !throwOnError) this.#kick(this.#failing ? 1000 : this.#queue.length >= this.#batchSize ? 0 : this.#flushMs);
    }
  }

  async #insert(batch: Queued[]): Promise<void> {
    await this.#pool.query(INSERT, [`[${batch.map((e) => e.json).join(',')}]`, [...new Set(batch.map((e) => e.workspace))]]);
  }

  /** Writes a batch entry by entry, dropping those the database refuses; stops at any other error. */
  async #oneByOne(batch: Queued[]): Promise<{ rest: Queued[]; error?: unknown }> {
    for (const [i, entry] of batch.entries()) {
      try {
        await this.#insert([entry]);
      } catch (err) {
        if (!refusedData(err)) return { rest: batch.slice(i), error: err };
        this.#warn('a message log the database refuses was dropped', err);
      }
    }
    return { rest: [] };
  }
}

interface Queued { json: string; workspace: string; seq: number }

/** A data error (class 22: bad value, encoding) or integrity error (23): retrying cannot help. */
function refusedData(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && (code.startsWith('22') || code.startsWith('23'));
}
