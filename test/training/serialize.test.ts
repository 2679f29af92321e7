import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isAppError } from '../../src/errors/index.ts';
import { ALGORITHM_VERSION, deserializeModel, serializeModel, trainIntentModel } from '../../src/training/index.ts';
import { bankingData, bankingHeldOut } from './fixtures.ts';

const model = trainIntentModel({ ...bankingData, counterexamples: [{ text: 'what time is it' }] });
const probes = [...bankingHeldOut.map(([t]) => t), 'play some jazz', '', 'Olá ação'];

test('a serialized model predicts exactly what the original predicts', () => {
  const buf = serializeModel(model);
  const loaded = deserializeModel(buf);
  for (const text of probes) assert.deepEqual(loaded.classify(text), model.classify(text));
  assert.ok(serializeModel(loaded).equals(buf), 're-serializing gives the same bytes');
  // Loading from an unaligned slice of a larger buffer (as a database driver may hand it over).
  const padded = Buffer.concat([Buffer.from([1, 2, 3]), buf]).subarray(3);
  assert.deepEqual(deserializeModel(padded).classify(probes[0]!), model.classify(probes[0]!));
});

test('the format is compact: one hash and IDF per feature, 4 bytes per nonzero weight', () => {
  const buf = serializeModel(model);
  const { hashes, denseDims, sentenceDims } = model.state.vectorizer;
  const columns = hashes.length + denseDims + sentenceDims;
  const nonzero = model.state.weights.values.length;
  const expectedArrays = hashes.length * 8 + model.intents.length * 8 + (columns + 1) * 4 + nonzero * 4;
  assert.ok(buf.length < expectedArrays + 1024, `${buf.length} bytes for ${hashes.length} features`);
  assert.ok(model.state.weights.values.every((v) => v !== 0), 'only nonzero weights are stored');
  assert.ok(nonzero < columns * model.intents.length, `${nonzero} of ${columns * model.intents.length} weights nonzero`);
});

/** The layout release 1.2 wrote: dense column-major int16 weights after the biases, format byte 2. */
function formatTwo(buf: Buffer): Buffer {
  const headerLength = buf.readUInt32LE(4);
  const { nonzero: _, ...header } = JSON.parse(buf.toString('utf8', 8, 8 + headerLength)) as Record<string, unknown>;
  const s = model.state;
  const classes = s.intents.length;
  const columns = s.weights.start.length - 1;
  const dense = new Int16Array(columns * classes);
  for (let f = 0; f < columns; f++) {
    for (let e = s.weights.start[f]!; e < s.weights.start[f + 1]!; e++) dense[f * classes + s.weights.classes[e]!] = s.weights.values[e]!;
  }
  const json = Buffer.from(JSON.stringify(header));
  const prefix = Buffer.alloc((8 + json.length + 3) & ~3);
  prefix.write('AIM', 0, 'latin1');
  prefix.writeUInt8(2, 3);
  prefix.writeUInt32LE(json.length, 4);
  json.copy(prefix, 8);
  const bytes = (a: ArrayBufferView) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
  return Buffer.concat([prefix, bytes(s.vectorizer.hashes), bytes(s.vectorizer.idf), bytes(s.scales), bytes(s.biases), bytes(dense)]);
}

test('a model an older release stored (format 2, dense weights) loads and predicts exactly as before', () => {
  const old = formatTwo(serializeModel(model));
  const loaded = deserializeModel(old);
  for (const text of probes) assert.deepEqual(loaded.classify(text), model.classify(text));
  assert.ok(serializeModel(loaded).equals(serializeModel(model)), 'saved again, it is the current format');
});

test('a model from another algorithm version is refused as stale; garbage and truncation as corrupt', () => {
  const buf = serializeModel(model);
  const stale = Buffer.from(buf.toString('latin1').replace(ALGORITHM_VERSION, ALGORITHM_VERSION.replace(/.$/, '~')), 'latin1');
  assert.equal(stale.length, buf.length);
  assert.throws(() => deserializeModel(stale), (e) => isAppError(e) && e.code === 'MODEL_STALE');
  assert.throws(() => deserializeModel(Buffer.from('not a model')), (e) => isAppError(e) && e.code === 'MODEL_CORRUPT');
  assert.throws(() => deserializeModel(buf.subarray(0, buf.length - 10)), (e) => isAppError(e) && e.code === 'MODEL_CORRUPT');
  // A class index past the intents (the last class entry, just before the values).
  const nonzero = model.state.weights.values.length;
  const badClass = Buffer.from(buf);
  badClass.writeUInt16LE(model.intents.length, buf.length - 2 * nonzero - 2);
  assert.throws(() => deserializeModel(badClass), (e) => isAppError(e) && e.code === 'MODEL_CORRUPT');
});
