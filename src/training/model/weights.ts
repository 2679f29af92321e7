/**
 * A model's weights as it holds them in memory: int16-quantised per class, by feature, nonzero
 * entries only.
 *
 * In a big workspace most weights are exactly zero: a class's weights are a sum over its support
 * vectors (its own examples and those of other intents near its margin), so a feature that
 * occurs in none of them keeps weight 0 for that class. Held and stored densely (features ×
 * intents), a synthetic workspace of 1,000 intents took 158 MB (12% nonzero, 39 MB this way),
 * and bigger ones passed what a bytea can carry to the driver. A small workspace's weights are
 * mostly nonzero; serialize.ts stores those dense, which is smaller there.
 */
export interface SparseWeights {
  /** Column f's entries are `start[f]` up to `start[f + 1]`, in ascending class order. */
  start: Uint32Array;
  classes: Uint16Array;
  /** weight(f, class) = values[e] * scales[class]. */
  values: Int16Array;
}

/** Class indices are stored in 16 bits. */
export const MAX_CLASSES = 0x10000;

interface QuantisedClass {
  columns: Uint32Array;
  values: Int16Array;
}

/**
 * Collects each class's weights as the solver finishes it and quantises them on the spot:
 * symmetric int16 with a per-class scale, which halves the size at no measurable accuracy cost.
 * Float32 rounding first, as the weights were stored before quantisation.
 */
export class WeightsBuilder {
  readonly scales: Float32Array;
  readonly #perClass: QuantisedClass[] = [];

  constructor(private readonly columns: number, classes: number) {
    this.scales = new Float32Array(classes);
  }

  add(cls: number, w: Float64Array): void {
    let max = 0;
    for (let f = 0; f < this.columns; f++) max = Math.max(max, Math.abs(Math.fround(w[f]!)));
    const scale = Math.fround(max > 0 ? max / 32767 : 1);
    this.scales[cls] = scale;
    const columns: number[] = [];
    const values: number[] = [];
    for (let f = 0; f < this.columns; f++) {
      const q = Math.round(Math.fround(w[f]!) / scale);
      if (q !== 0) { columns.push(f); values.push(q); }
    }
    this.#perClass[cls] = { columns: Uint32Array.from(columns), values: Int16Array.from(values) };
  }

  build(): SparseWeights {
    const start = new Uint32Array(this.columns + 1);
    for (const c of this.#perClass) for (const f of c.columns) start[f + 1]!++;
    for (let f = 0; f < this.columns; f++) start[f + 1]! += start[f]!;
    const next = start.slice(0, this.columns);
    const classes = new Uint16Array(start[this.columns]!);
    const values = new Int16Array(classes.length);
    this.#perClass.forEach((c, cls) => {
      for (let k = 0; k < c.columns.length; k++) {
        const e = next[c.columns[k]!]!++;
        classes[e] = cls;
        values[e] = c.values[k]!;
      }
    });
    return { start, classes, values };
  }
}

/** The sparse form of column-major dense weights (`dense[f * classes + class]`), as format 2 stored them. */
export function fromDense(dense: Int16Array, columns: number, classes: number): SparseWeights {
  const start = new Uint32Array(columns + 1);
  for (let f = 0; f < columns; f++) {
    let n = 0;
    for (let c = 0; c < classes; c++) if (dense[f * classes + c] !== 0) n++;
    start[f + 1] = start[f]! + n;
  }
  const out = { start, classes: new Uint16Array(start[columns]!), values: new Int16Array(start[columns]!) };
  let e = 0;
  for (let i = 0; i < columns * classes; i++) {
    if (dense[i] === 0) continue;
    out.classes[e] = i % classes;
    out.values[e++] = dense[i]!;
  }
  return out;
}

/** The column-major dense form (`dense[f * classes + class]`) that format 2 stores. */
export function toDense(w: SparseWeights, classes: number): Int16Array {
  const columns = w.start.length - 1;
  const dense = new Int16Array(columns * classes);
  for (let f = 0; f < columns; f++) {
    for (let e = w.start[f]!; e < w.start[f + 1]!; e++) dense[f * classes + w.classes[e]!] = w.values[e]!;
  }
  return dense;
}
