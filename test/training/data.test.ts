/**
 * The training data read for a workspace is exactly what it holds: intents and examples in their
 * order, intents without examples, counterexamples, the language; nothing for a missing workspace.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readTrainingData } from '../../src/training/service/data.ts';
import { v1Request } from '../support/api.ts';
import { startTestStore, type TestStore } from '../support/store.ts';

const skills = [
  { name: 'a', language: 'en', intents: [{ intent: 'greet', examples: [{ text: 'hi' }, { text: 'hello there' }] }, { intent: 'empty' }, { intent: 'bye', examples: [{ text: 'see you' }] }], counterexamples: [{ text: 'weather?' }, { text: 'stocks' }] },
  { name: 'b', language: 'fr', intents: [{ intent: 'bonjour', examples: [{ text: 'salut' }] }] },
  { name: 'c', language: 'en' },
];

describe('reading training data', () => {
  let s: TestStore;
  const ids: string[] = [];
  before(async () => {
    s = await startTestStore();
    const t = await s.tenant('data');
    for (const skill of skills) ids.push((await v1Request(t.serviceUrl, { authorization: `Bearer ${t.token}` }, 'POST', '/v1/workspaces', skill)).workspace_id);
  });
  after(async () => { await s.close(); });

  it('each workspace gives exactly its data', async () => {
    const client = await s.store.pool.connect();
    try {
      for (const [i, skill] of skills.entries()) {
        const snap = await readTrainingData(client, ids[i]!);
        assert.deepEqual(snap?.data, {
          language: skill.language,
          intents: (skill.intents ?? []).map((x) => ({ intent: x.intent, examples: x.examples ?? [] })),
          counterexamples: skill.counterexamples ?? [],
        }, skill.name);
      }
      assert.equal(await readTrainingData(client, '00000000-0000-4000-8000-000000000000'), undefined);
    } finally {
      client.release();
    }
  });
});
