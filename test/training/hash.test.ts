import { test } from 'node:test';
import assert from 'node:assert/strict';
import { trainingDataHash, type TrainingData } from '../../src/training/index.ts';

const base: TrainingData = {
  language: 'en',
  intents: [
    { intent: 'greet', examples: [{ text: 'hello' }, { text: 'hi there' }] },
    { intent: 'bye', examples: [{ text: 'goodbye' }, { text: 'see you' }] },
  ],
  counterexamples: [{ text: 'what is the weather' }, { text: 'tell me a joke' }],
};
const h = trainingDataHash(base);

test('the hash is a SHA-256 hex digest, unchanged by reordering intents, examples and counterexamples', () => {
  assert.match(h, /^[0-9a-f]{64}$/);
  const reordered: TrainingData = {
    language: 'en',
    intents: [
      { intent: 'bye', examples: [{ text: 'see you' }, { text: 'goodbye' }] },
      { intent: 'greet', examples: [{ text: 'hi there' }, { text: 'hello' }] },
    ],
    counterexamples: [{ text: 'tell me a joke' }, { text: 'what is the weather' }],
  };
  assert.equal(trainingDataHash(reordered), h);
  // Intents without examples do not enter the model, so they do not enter the hash.
  assert.equal(trainingDataHash({ ...base, intents: [...base.intents, { intent: 'empty', examples: [] }] }), h);
  assert.equal(trainingDataHash({ ...base, counterexamples: [] }), trainingDataHash({ ...base, counterexamples: undefined }));
});

test('the hash changes with any input the model depends on', () => {
  const variants: TrainingData[] = [
    { ...base, language: 'pt-br' },
    { ...base, intents: [{ ...base.intents[0]!, intent: 'greeting' }, base.intents[1]!] },
    { ...base, intents: [{ ...base.intents[0]!, examples: [{ text: 'hello' }, { text: 'hi there!' }] }, base.intents[1]!] },
    // Moving an example to another intent keeps the set of texts but changes the labels.
    { ...base, intents: [{ intent: 'greet', examples: [{ text: 'hello' }] }, { intent: 'bye', examples: [{ text: 'goodbye' }, { text: 'see you' }, { text: 'hi there' }] }] },
    { ...base, counterexamples: [{ text: 'what is the weather' }] },
    { ...base, counterexamples: undefined },
  ];
  const hashes = variants.map(trainingDataHash);
  for (const v of hashes) assert.notEqual(v, h);
  assert.equal(new Set(hashes).size, hashes.length);
});
