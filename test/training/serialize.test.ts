/**
 * The stored model: dense (format 2, as release 1.2 wrote it) when that is smaller, sparse
 * (format 3, under SPARSE_ALGORITHM_VERSION) when most weights are zero, as in big workspaces.
 * Either way a loaded model predicts exactly what the trained one does.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isAppError } from '../../src/errors/index.ts';
import {
  ALGORITHM_VERSION, IntentModel, SPARSE_ALGORITHM_VERSION, deserializeModel, serializeModel, storedAlgorithm, trainIntentModel,
} from '../../src/training/index.ts';
import { bankingData, bankingHeldOut } from './fixtures.ts';

const small = trainIntentModel({ ...bankingData, counterexamples: [{ text: 'what time is it' }] });
const probes = [...bankingHeldOut.map(([t]) => t), 'play some jazz', '', 'Olá ação'];

/**
 * A model with most weights zero, as a big workspace's are (CLINC150's 150 intents: 12% nonzero):
 * the small model with four in five of its weights dropped. (A workspace small enough to train
 * in a unit test shares too many words and character n-grams between intents to be sparse.)
 */
function thinned(model: IntentModel): IntentModel {
  const w = model.state.weights;
  const columns = w.start.length - 1;
  const start = new Uint32Array(columns + 1);
  const classes: number[] = [];
  const values: number[] = [];
  for (let f = 0; f < columns; f++) {
    for (let e = w.start[f]!; e < w.start[f + 1]!; e++) if (e % 5 === 0) { classes.push(w.classes[e]!); values.push(w.values[e]!); }
    start[f + 1] = classes.length;
  }
  return new IntentModel({ ...model.state, weights: { start, classes: Uint16Array.from(classes), values: Int16Array.from(values) } });
}
const big = thinned(small);

test('a small model is stored dense, as release 1.2 stored it; a big one sparse, under its own algorithm name', () => {
  const dense = serializeModel(small);
  assert.equal(dense.readUInt8(3), 2);
  assert.equal(storedAlgorithm(dense), ALGORITHM_VERSION);
  const sparse = serializeModel(big);
  assert.equal(sparse.readUInt8(3), 3);
  assert.equal(storedAlgorithm(sparse), SPARSE_ALGORITHM_VERSION);
  assert.notEqual(SPARSE_ALGORITHM_VERSION, ALGORITHM_VERSION);
  assert.equal(SPARSE_ALGORITHM_VERSION.split('/').at(-1), ALGORITHM_VERSION.split('/').at(-1), 'the same generation');
});

test('each serialized model predicts exactly what the original predicts, and re-serializes to the same bytes', () => {
  for (const model of [small, big]) {
    const buf = serializeModel(model);
    const loaded = deserializeModel(buf);
    for (const text of probes) assert.deepEqual(loaded.classify(text), model.classify(text));
    assert.ok(serializeModel(loaded).equals(buf), 're-serializing gives the same bytes');
    // Loading from an unaligned slice of a larger buffer (as a database driver may hand it over).
    const padded = Buffer.concat([Buffer.from([1, 2, 3]), buf]).subarray(3);
    assert.deepEqual(deserializeModel(padded).classify(probes[0]!), model.classify(probes[0]!));
  }
});

test('the format is the smaller of the two: dense, 2 bytes a weight; sparse, 4 bytes a nonzero weight and 4 a column', () => {
  for (const model of [small, big]) {
    const { hashes, denseDims, sentenceDims } = model.state.vectorizer;
    const columns = hashes.length + denseDims + sentenceDims;
    const nonzero = model.state.weights.values.length;
    assert.ok(model.state.weights.values.every((v) => v !== 0), 'only nonzero weights are held');
    const weights = Math.min(2 * columns * model.intents.length, 4 * (columns + 1) + 4 * nonzero);
    const buf = serializeModel(model);
    assert.ok(buf.length < hashes.length * 8 + model.intents.length * 8 + weights + 2048, `${buf.length} bytes for ${hashes.length} features`);
  }
  assert.ok(serializeModel(big).length < formatTwo(big).length, `sparse ${serializeModel(big).length} bytes, dense ${formatTwo(big).length}`);
  assert.ok(serializeModel(small).length === formatTwo(small).length);
});

/** The layout release 1.2 wrote, by hand: dense column-major int16 weights after the biases, format byte 2. */
function formatTwo(model: IntentModel): Buffer {
  const s = model.state;
  const classes = s.intents.length;
  const columns = s.weights.start.length - 1;
  const dense = new Int16Array(columns * classes);
  for (let f = 0; f < columns; f++) {
    for (let e = s.weights.start[f]!; e < s.weights.start[f + 1]!; e++) dense[f * classes + s.weights.classes[e]!] = s.weights.values[e]!;
  }
  const v = s.vectorizer;
  const header = {
    algorithm: ALGORITHM_VERSION, language: s.language, intents: s.intents, features: v.hashes.length, wordColumns: v.wordColumns,
    classColumns: v.classColumns, denseDims: v.denseDims, sentenceDims: v.sentenceDims, calibration: s.calibration,
  };
  const json = Buffer.from(JSON.stringify(header));
  const prefix = Buffer.alloc((8 + json.length + 3) & ~3);
  prefix.write('AIM', 0, 'latin1');
  prefix.writeUInt8(2, 3);
  prefix.writeUInt32LE(json.length, 4);
  json.copy(prefix, 8);
  const bytes = (a: ArrayBufferView) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
  return Buffer.concat([prefix, bytes(v.hashes), bytes(v.idf), bytes(s.scales), bytes(s.biases), bytes(dense)]);
}

test('a model release 1.2 stored (format 2) loads and predicts exactly as before; saved again, it takes the smaller format', () => {
  for (const model of [small, big]) {
    const loaded = deserializeModel(formatTwo(model));
    for (const text of probes) assert.deepEqual(loaded.classify(text), model.classify(text));
    assert.ok(serializeModel(loaded).equals(serializeModel(model)));
  }
  assert.ok(formatTwo(small).equals(serializeModel(small)), 'what this release writes for a small model is byte for byte what 1.2 wrote');
});

test('a model from another algorithm version is refused as stale; garbage, truncation and a bad weight table as corrupt', () => {
  for (const model of [small, big]) {
    const buf = serializeModel(model);
    const name = storedAlgorithm(buf);
    const stale = Buffer.from(buf.toString('latin1').replace(name, name.replace(/.$/, '~')), 'latin1');
    assert.equal(stale.length, buf.length);
    assert.throws(() => deserializeModel(stale), (e) => isAppError(e) && e.code === 'MODEL_STALE');
    assert.throws(() => deserializeModel(buf.subarray(0, buf.length - 10)), (e) => isAppError(e) && e.code === 'MODEL_CORRUPT');
  }
  assert.throws(() => deserializeModel(Buffer.from('not a model')), (e) => isAppError(e) && e.code === 'MODEL_CORRUPT');
  // A class index past the intents (the last class entry, just before the values).
  const buf = serializeModel(big);
  const nonzero = big.state.weights.values.length;
  const badClass = Buffer.from(buf);
  badClass.writeUInt16LE(big.intents.length, buf.length - 2 * nonzero - 2);
  assert.throws(() => deserializeModel(badClass), (e) => isAppError(e) && e.code === 'MODEL_CORRUPT');
});
