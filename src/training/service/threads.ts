/**
 * A fixed pool of worker threads for training, so training never blocks the event loop that
 * serves the API. A thread that crashes, or is terminated to cut its training short, is replaced;
 * its job's promise rejects.
 */
import { Worker } from 'node:worker_threads';
import { AppError } from '../../errors/index.ts';
import type { TrainingData } from '../model/index.ts';
import type { TrainedModel } from './data.ts';

interface Pending { resolve(m: TrainedModel): void; reject(e: Error): void }

export class TrainingThreads {
  readonly size: number;
  readonly #workers: Worker[] = [];
  readonly #idle: Worker[] = [];
  readonly #waiting: Array<(w: Worker) => void> = [];
  readonly #pending = new Map<Worker, Map<number, Pending>>();
  #nextId = 0;
  #closed = false;

  constructor(size: number) {
    this.size = Math.max(1, size);
    for (let i = 0; i < this.size; i++) this.#idle.push(this.#spawn());
  }

  #spawn(): Worker {
    const w = new Worker(new URL('./thread-entry.mjs', import.meta.url));
    this.#workers.push(w);
    this.#pending.set(w, new Map());
    w.on('message', (msg: { id: number; ok: boolean; out?: TrainedModel; message?: string; code?: string; status?: number; hint?: string }) => {
      const p = this.#pending.get(w)?.get(msg.id);
      this.#pending.get(w)?.delete(msg.id);
      if (!p) return;
      if (msg.ok) p.resolve({ ...msg.out!, model: Buffer.from(msg.out!.model) });
      else p.reject(new AppError(msg.code ?? 'TRAINING_FAILED', msg.message ?? 'training failed', { status: msg.status, hint: msg.hint }));
      this.#release(w);
    });
    w.on('error', (err) => this.#crashed(w, err));
    // Any exit ends the trainings it had, whatever the code: a thread terminated before it got
    // going exits with 0, and its pending training then never settled (stop() hung on it).
    w.on('exit', (code) => this.#crashed(w, new Error(this.#closed ? 'the training threads are shut down' : `training thread exited with code ${code}`)));
    return w;
  }

  #crashed(w: Worker, err: Error): void {
    const pending = this.#pending.get(w);
    if (!pending) return;
    this.#pending.delete(w);
    for (const p of pending.values()) p.reject(err);
    this.#workers.splice(this.#workers.indexOf(w), 1);
    const idle = this.#idle.indexOf(w);
    if (idle >= 0) this.#idle.splice(idle, 1);
    if (!this.#closed) this.#release(this.#spawn());
  }

  #release(w: Worker): void {
    const next = this.#waiting.shift();
    if (next) next(w); else this.#idle.push(w);
  }

  /**
   * Trains in the next free thread. `signal` cuts the training short: its thread is terminated
   * (the model code has no way to stop midway) and replaced, and the promise rejects with
   * TRAINING_CANCELLED.
   */
  async train(data: TrainingData, maxBytes: number, signal?: AbortSignal): Promise<TrainedModel> {
    if (this.#closed) throw new AppError('TRAINING_STOPPED', 'the training threads are shut down');
    const w = this.#idle.pop() ?? await new Promise<Worker>((resolve) => this.#waiting.push(resolve));
    if (signal?.aborted) {
      this.#release(w);
      throw cancelled();
    }
    const id = this.#nextId++;
    return new Promise<TrainedModel>((resolve, reject) => {
      const onAbort = (): void => {
        if (!this.#pending.get(w)?.delete(id)) return;
        reject(cancelled());
        void w.terminate(); // its exit spawns the replacement
      };
      const done = (): void => signal?.removeEventListener('abort', onAbort);
      this.#pending.get(w)!.set(id, {
        resolve: (m) => { done(); resolve(m); },
        reject: (e) => { done(); reject(e); },
      });
      signal?.addEventListener('abort', onAbort, { once: true });
      w.postMessage({ id, data, maxBytes });
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all(this.#workers.map((w) => w.terminate()));
  }
}

function cancelled(): AppError {
  return new AppError('TRAINING_CANCELLED', 'the training was cut short');
}
