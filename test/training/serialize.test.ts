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

test('the format is compact: int16 weights plus one hash and IDF per feature', () => {
  const buf = serializeModel(model);
  const { hashes, denseDims, sentenceDims } = model.state.vectorizer;
  const expectedArrays = hashes.length * 8 + model.intents.length * 8 + (hashes.length + denseDims + sentenceDims) * model.intents.length * 2;
  assert.ok(buf.length < expectedArrays + 1024, `${buf.length} bytes for ${hashes.length} features`);
});

test('a model from another algorithm version is refused as stale; garbage and truncation as corrupt', () => {
  const buf = serializeModel(model);
  const stale = Buffer.from(buf.toString('latin1').replace(ALGORITHM_VERSION, ALGORITHM_VERSION.replace(/.$/, '~')), 'latin1');
  assert.equal(stale.length, buf.length);
  assert.throws(() => deserializeModel(stale), (e) => isAppError(e) && e.code === 'MODEL_STALE');
  assert.throws(() => deserializeModel(Buffer.from('not a model')), (e) => isAppError(e) && e.code === 'MODEL_CORRUPT');
  assert.throws(() => deserializeModel(buf.subarray(0, buf.length - 10)), (e) => isAppError(e) && e.code === 'MODEL_CORRUPT');
});
