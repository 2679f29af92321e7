/**
 * Writes to one workspace queue here, in the process, before they take a pooled connection.
 * Each write locks the workspace's row (SELECT … FOR UPDATE) in its transaction, so they run one
 * at a time anyway; but waiting for that lock while holding a connection let a burst of writes to
 * one workspace take every connection of the pool, and requests for other workspaces (and
 * /health) then timed out and were answered 503 "cannot reach its database". Queued first, a
 * process holds at most one connection per workspace being written.
 */
export class KeyedQueue {
  readonly #tails = new Map<string, Promise<unknown>>();

  /** Runs `fn` once every earlier `fn` of `key` has settled; its result or error is the caller's alone. */
  run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const result = (this.#tails.get(key) ?? Promise.resolve()).then(fn);
    const tail = result.then(() => undefined, () => undefined);
    this.#tails.set(key, tail);
    void tail.then(() => { if (this.#tails.get(key) === tail) this.#tails.delete(key); });
    return result;
  }
}
