/**
 * A least-recently-used cache, bounded by entries and, given a `weigh`, by their total weight:
 * models range from kilobytes to over a hundred megabytes, so a count alone let a store with a
 * few big workspaces hold gigabytes. The entry just set always stays, however heavy: it is in use.
 */
export class Lru<V> {
  readonly #map = new Map<string, { value: V; weight: number }>();
  #weight = 0;

  constructor(readonly max: number, readonly maxWeight = Infinity, private readonly weigh: (v: V) => number = () => 0) {}

  /** The total weight of the entries held. */
  get weight(): number {
    return this.#weight;
  }

  get(key: string): V | undefined {
    const e = this.#map.get(key);
    if (e !== undefined) { this.#map.delete(key); this.#map.set(key, e); }
    return e?.value;
  }

  set(key: string, value: V): void {
    this.#delete(key);
    const weight = this.weigh(value);
    this.#map.set(key, { value, weight });
    this.#weight += weight;
    while (this.#map.size > this.max || (this.#weight > this.maxWeight && this.#map.size > 1)) this.#delete(this.#map.keys().next().value!);
  }

  #delete(key: string): void {
    const e = this.#map.get(key);
    if (e === undefined) return;
    this.#map.delete(key);
    this.#weight -= e.weight;
  }
}
