import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isAppError } from '../../src/errors/index.ts';
import { normalizeText, serializeModel, tokenize, trainIntentModel } from '../../src/training/index.ts';
import { Vectorizer } from '../../src/training/model/vectorizer.ts';
import { encode, englishSentenceVectors, englishVectors, load } from '../../src/training/model/embeddings/index.ts';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bankingData, bankingHeldOut, portugueseData } from './fixtures.ts';

const banking = trainIntentModel(bankingData);

test('separates intents on phrasings it never saw, with high confidence', () => {
  let right = 0;
  for (const [text, intent] of bankingHeldOut) {
    const [top] = banking.classify(text);
    if (top!.intent === intent && top!.confidence > 0.5) right++;
  }
  assert.ok(right >= bankingHeldOut.length - 1, `${right} of ${bankingHeldOut.length} held-out texts right`);
  for (const { intent, examples } of bankingData.intents) {
    for (const { text } of examples) assert.equal(banking.classify(text)[0]!.intent, intent, text);
  }
});

test('returns every intent once, sorted by descending confidence in [0, 1]', () => {
  const scores = banking.classify('how much money is in my account');
  assert.deepEqual(scores.map((s) => s.intent).sort(), ['check_balance', 'lost_card', 'opening_hours', 'transfer_money']);
  for (let i = 0; i < scores.length; i++) {
    assert.ok(scores[i]!.confidence >= 0 && scores[i]!.confidence <= 1);
    if (i > 0) assert.ok(scores[i - 1]!.confidence >= scores[i]!.confidence);
  }
});

test('out-of-domain input scores below 0.2 for every intent', () => {
  for (const text of ['play some jazz music', 'the quick brown fox jumps over the lazy dog', '', '🙂🙂']) {
    assert.ok(banking.classify(text)[0]!.confidence < 0.2, `${JSON.stringify(text)} scored ${banking.classify(text)[0]!.confidence}`);
  }
});

test('counterexamples push inputs like them to low confidence without hurting real intents', () => {
  const counterexamples = ['what time is it', 'what time is it in London', 'tell me the time', 'what is the weather like'].map((text) => ({ text }));
  const withCe = trainIntentModel({ ...bankingData, counterexamples });
  const probe = 'what time is it now';
  const before = banking.classify(probe)[0]!.confidence;
  const after = withCe.classify(probe)[0]!.confidence;
  assert.ok(before > 0.4, `without counterexamples the probe looks like opening_hours (${before})`);
  assert.ok(after < 0.2, `with counterexamples it scores ${after}`);
  assert.equal(withCe.classify('what time does the branch close')[0]!.intent, 'opening_hours');
  assert.ok(withCe.classify('what time does the branch close')[0]!.confidence > 0.5);
});

test('features are case- and diacritics-insensitive (pt-br)', () => {
  assert.equal(normalizeText('AÇÃO Não é Fácil'), 'acao nao e facil');
  assert.deepEqual(tokenize('Olá, você tem 2 cartões? Sí, 300€!'), ['ola', 'voce', 'tem', '0', 'cartoes', 'si', '0']);
  const pt = trainIntentModel(portugueseData);
  assert.equal(pt.classify('ola bom dia')[0]!.intent, 'saudacao');
  assert.equal(pt.classify('CANCELAMENTO DO PLANO')[0]!.intent, 'cancelamento');
  assert.equal(pt.classify('qual e o preco')[0]!.intent, 'preco');
  assert.equal(pt.classify('Qual é o preço?')[0]!.confidence, pt.classify('qual e o preco')[0]!.confidence);
});

test('training is deterministic and ignores the order of intents and examples', () => {
  const shuffled = {
    ...bankingData,
    intents: [...bankingData.intents].reverse().map((i) => ({ ...i, examples: [...i.examples].reverse() })),
  };
  assert.ok(serializeModel(trainIntentModel(shuffled)).equals(serializeModel(banking)));
});

test('a duplicated intent name is refused; an empty workspace classifies to nothing', () => {
  const dup = { language: 'en', intents: [bankingData.intents[0]!, { intent: 'check_balance', examples: [{ text: 'x' }] }] };
  assert.throws(() => trainIntentModel(dup), (e) => isAppError(e) && e.code === 'DUPLICATE_INTENT');
  const empty = trainIntentModel({ language: 'en', intents: [{ intent: 'no_examples', examples: [] }] });
  assert.deepEqual(empty.classify('hello'), []);
});

test('English workspaces use word knowledge (GloVe classes and vectors, sentence vectors); other languages do not', () => {
  assert.ok(banking.state.vectorizer.denseDims > 0 && banking.state.vectorizer.sentenceDims > 0 && banking.state.vectorizer.classColumns > 0);
  const pt = trainIntentModel(portugueseData);
  assert.equal(pt.state.vectorizer.denseDims, 0);
  assert.equal(pt.state.vectorizer.sentenceDims, 0);
  assert.equal(pt.state.vectorizer.classColumns, 0);
  // Words never seen in training, related only through the word vectors.
  const data = {
    language: 'en',
    intents: [
      { intent: 'weather', examples: ['will it rain today', 'is it sunny outside', 'how cold is it this morning'].map((text) => ({ text })) },
      { intent: 'music', examples: ['play a song', 'put on some jazz', 'i want to hear the radio'].map((text) => ({ text })) },
      { intent: 'food', examples: ['order a pizza', 'i am hungry', 'get me a burger'].map((text) => ({ text })) },
    ],
  };
  const probes: Array<[string, string]> = [['thunderstorm', 'weather'], ['lyrics', 'music'], ['a track by madonna', 'music'], ['sandwich', 'food'], ['noodles', 'food']];
  const model = trainIntentModel(data);
  for (const [text, intent] of probes) assert.equal(model.classify(text)[0]!.intent, intent, text);
  const without = trainIntentModel({ ...data, language: 'xx' });
  const rightWithout = probes.filter(([text, intent]) => without.classify(text)[0]!.intent === intent).length;
  assert.ok(rightWithout <= 2, `the probes need word knowledge (${rightWithout} right without it)`);
});

test('the distilled sentence vectors: rows of the GloVe words, and texts with one meaning point one way', () => {
  const sentence = englishSentenceVectors();
  assert.equal(sentence.dims, 128);
  assert.equal(sentence.index.size, englishVectors().index.size);
  const embed = (text: string) => {
    const v = new Float64Array(sentence.dims);
    for (const t of tokenize(text)) {
      const row = sentence.index.get(t);
      if (row === undefined) continue;
      for (let d = 0; d < sentence.dims; d++) v[d]! += sentence.scales[row]! * sentence.vectors[row * sentence.dims + d]!;
    }
    return v;
  };
  const cosine = (a: Float64Array, b: Float64Array) => {
    let dot = 0, na = 0, nb = 0;
    for (let d = 0; d < a.length; d++) { dot += a[d]! * b[d]!; na += a[d]! ** 2; nb += b[d]! ** 2; }
    return dot / Math.sqrt(na * nb);
  };
  // Pairs that share no content word, each closer to its paraphrase than to the other topics.
  const pairs: Array<[string, string]> = [
    ['will it rain tomorrow', 'what is the weather forecast'],
    ['wake me up early', 'set an alarm for the morning'],
    ['send money to my brother', 'transfer funds to a relative'],
  ];
  for (const [i, [a, b]] of pairs.entries()) {
    const same = cosine(embed(a), embed(b));
    for (const [j, [, other]] of pairs.entries()) {
      if (j !== i) assert.ok(same > cosine(embed(a), embed(other)), `"${a}" is closer to "${b}" (${same.toFixed(3)}) than to "${other}"`);
    }
  }
});

test('the word-vector files decode and re-encode byte for byte (the build tools write what load reads)', () => {
  for (const file of ['glove-en.bin', 'sentence-en.bin']) {
    const buf = readFileSync(join(import.meta.dirname, '../../src/training/model/embeddings', file));
    const v = load(buf);
    assert.ok(encode([...v.index.keys()], v.dims, v.scales, v.vectors).equals(buf), file);
  }
  // A file that shares another's rows is refused when its words are not those rows.
  const glove = englishVectors();
  const [first, second] = [...glove.index.keys()];
  const swapped = new Map(glove.index).set(first!, 1).set(second!, 0);
  const sentenceFile = readFileSync(join(import.meta.dirname, '../../src/training/model/embeddings/sentence-en.bin'));
  assert.throws(() => load(sentenceFile, swapped), /other words/);
  assert.equal(load(sentenceFile, glove.index).index, glove.index);
});

test('a misspelt word counts as the training word one edit away; short tokens and real English words stay as written', () => {
  const words = (v: Vectorizer, text: string) => [...v.transform(text).idx].filter((col) => col < v.state.wordColumns);
  const v = Vectorizer.fit(['where is my parcel', 'cancel the order', 'refund please']);
  assert.deepEqual(words(v, 'where is my parcle'), words(v, 'where is my parcel'));
  assert.deepEqual(words(v, 'cancel the ordr'), words(v, 'cancel the order'));
  assert.deepEqual(words(v, 'refnud plese'), words(v, 'refund please'));
  assert.notDeepEqual(words(v, 'where is me parcel'), words(v, 'where is my parcel'));
  const en = Vectorizer.fit(['cancel the order'], true);
  assert.notDeepEqual(words(en, 'cancel the older'), words(en, 'cancel the order'));
  assert.deepEqual(words(en, 'cancle the order'), words(en, 'cancel the order'));
});

test('intent names teach their words, so a name word alone finds its intent', () => {
  const model = trainIntentModel({
    language: 'pt',
    intents: [
      { intent: 'horario', examples: [{ text: 'quando voces abrem' }, { text: 'que horas fecha a loja' }] },
      { intent: 'saldo_conta', examples: [{ text: 'quanto dinheiro eu tenho' }, { text: 'quero ver meu extrato' }] },
    ],
  });
  assert.equal(model.classify('saldo')[0]!.intent, 'saldo_conta');
  assert.equal(model.classify('horario')[0]!.intent, 'horario');
});
