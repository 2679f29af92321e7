/**
 * One load per key at a time: callers asking for a key already being loaded share that load.
 * A burst of requests to a workspace whose cache entry just went stale (a restart, an edit)
 * compiled its dialog and read its model once per request, each on the event loop, stalling
 * every other tenant for the length of the burst.
 */
export class SingleFlight<V> {
  readonly #running = new Map<string, Promise<V>>();

  run(key: string, load: () => Promise<V>): Promise<V> {
    const running = this.#running.get(key);
    if (running) return running;
    const p = load().finally(() => this.#running.delete(key));
    this.#running.set(key, p);
    return p;
  }
}
