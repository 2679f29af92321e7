/**
 * bulk_classify through the ibm-watson SDK against a served store that trains for real: each
 * text gets the intents and entities /message reports for it (same model and confidences), the
 * spec's limits are 400s that say what is wrong, it answers without a current model as /message
 * does, and it is served while writes are refused (it only reads).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type AssistantV1 from 'ibm-watson/assistant/v1.js';
import { createService, type Service } from '../../src/service/index.ts';
import { sdkClient, sdkRejects } from '../support/api.ts';
import { startTestStore, type TestStore } from '../support/store.ts';

const SKILL = {
  name: 'pizzeria',
  intents: [
    { intent: 'order_pizza', examples: ['I want to order a pizza', 'can I get a large pizza', "I'd like a pepperoni pizza delivered", 'order a pizza please', 'get me two pizzas'].map((text) => ({ text })) },
    { intent: 'opening_hours', examples: ['when are you open', 'what are your opening hours', 'are you open on sunday', 'what time do you close', 'how late are you open tonight'].map((text) => ({ text })) },
    { intent: 'cancel_order', examples: ['cancel my order', 'I want to cancel', 'please stop my delivery', 'I changed my mind, cancel it', 'do not send the order'].map((text) => ({ text })) },
  ],
  entities: [
    { entity: 'size', values: [{ value: 'large', synonyms: ['big', 'family size'] }, { value: 'small', synonyms: ['little'] }] },
    { entity: 'sys-number' },
  ],
};

const TEXTS = ['can I order a big pizza', 'are you open late on friday', 'cancel my 2 little orders', 'xyzzy', ''];

describe('bulk_classify', () => {
  let s: TestStore;
  let svc: Service;
  let sdk: AssistantV1;
  let id: string;
  let blocked: string | undefined;

  const status = async (): Promise<string | undefined> => (await sdk.getWorkspace({ workspaceId: id })).result.status;
  const classify = async (texts: string[]): Promise<AssistantV1.BulkClassifyOutput[]> =>
    (await sdk.bulkClassify({ workspaceId: id, input: texts.map((text) => ({ text })) })).result.output!;
  const message = async (text: string, alternate: boolean): Promise<AssistantV1.MessageResponse> =>
    (await sdk.message({ workspaceId: id, input: { text }, alternateIntents: alternate })).result;

  before(async () => {
    s = await startTestStore();
    svc = createService(s.store, { trainer: { concurrency: 1, pollMs: 50 }, debounceMs: 20, writesBlocked: async () => blocked });
    const url = await svc.app.listen({ host: '127.0.0.1', port: 0 });
    const t = await s.tenant('bulk');
    sdk = sdkClient(`${url}/instances/${t.instanceId}/api`, t.token);
    id = (await sdk.createWorkspace(SKILL)).result.workspace_id!;
    const deadline = Date.now() + 60_000;
    while ((await status()) !== 'Available') {
      assert.ok(Date.now() < deadline, 'the workspace was not trained within 60 s');
      await new Promise((r) => setTimeout(r, 100));
    }
  });
  after(async () => { await svc.close(); await s.close(); });

  test('each text gets the intents and entities /message reports for it', async () => {
    const output = await classify(TEXTS);
    assert.deepEqual(output.map((o) => o.input), TEXTS.map((text) => ({ text })));
    for (const [i, text] of TEXTS.entries()) {
      const alternate = await message(text, true);
      assert.deepEqual(output[i]!.intents, alternate.intents, `intents of "${text}"`);
      assert.deepEqual(output[i]!.entities, alternate.entities, `entities of "${text}"`);
      // Without alternates /message keeps the top intent only when it is confident enough to count.
      const top = output[i]!.intents?.[0];
      assert.deepEqual((await message(text, false)).intents, top && (top.confidence ?? 0) >= 0.2 ? [top] : [], `top intent of "${text}"`);
    }
    // The comparison means something only if the model tells the intents apart and entities are found.
    assert.deepEqual(output.slice(0, 3).map((o) => o.intents?.[0]?.intent), ['order_pizza', 'opening_hours', 'cancel_order']);
    assert.equal(output[0]!.intents!.length, 3);
    assert.deepEqual(output[2]!.entities?.map((e) => [e.entity, e.value, e.location]), [['sys-number', '2', [10, 11]], ['size', 'small', [12, 18]]]);
    assert.deepEqual(output[4]!.intents, []);
  });

  test('0 or 51 utterances, a text over 2048 characters and a missing input are 400s that say what is wrong', async () => {
    const none = await sdkRejects(sdk.bulkClassify({ workspaceId: id, input: [] }), 400);
    assert.equal(none.message, 'input must hold at least 1 utterance');
    assert.equal(JSON.parse(none.body).errors[0].path, '/input');

    const many = await sdkRejects(sdk.bulkClassify({ workspaceId: id, input: Array.from({ length: 51 }, (_, i) => ({ text: `text ${i}` })) }), 400);
    assert.match(many.message, /^input must hold at most 50 utterances/);
    assert.equal((await classify(Array.from({ length: 50 }, (_, i) => `text ${i}`))).length, 50);

    const long = await sdkRejects(sdk.bulkClassify({ workspaceId: id, input: [{ text: 'ok' }, { text: 'x'.repeat(2049) }] }), 400);
    assert.equal(long.message, 'text must be at most 2048 characters');
    assert.deepEqual(JSON.parse(long.body), { error: 'Invalid Request Body', code: 400, errors: [{ message: 'text must be at most 2048 characters', path: '/input/1/text' }] });
    assert.equal((await classify(['x'.repeat(2048)])).length, 1);

    const missing = await sdkRejects(sdk.bulkClassify({ workspaceId: id }), 400);
    assert.equal(JSON.parse(missing.body).errors[0].path, '/input');
  });

  test('an unknown workspace is 404', async () => {
    const err = await sdkRejects(sdk.bulkClassify({ workspaceId: '00000000-0000-4000-8000-000000000000', input: [{ text: 'hi' }] }), 404);
    assert.deepEqual(JSON.parse(err.body), { error: 'Resource not found', code: 404 });
  });

  test('it is served while writes are refused; a write to an intent named bulk_classify is not', async () => {
    await sdk.createIntent({ workspaceId: id, intent: 'bulk_classify' });
    blocked = 'a restore is running';
    try {
      assert.equal((await classify(['a pizza'])).length, 1);
      await sdkRejects(sdk.updateIntent({ workspaceId: id, intent: 'bulk_classify', newDescription: 'changed' }), 503);
    } finally {
      blocked = undefined;
    }
  });

  // Last: it stops the trainer, so the workspace stays without a current model.
  test('without a current model it answers as /message does: the last model while training, no intents before there is one', async () => {
    await svc.trainer!.stop();
    await sdk.createExample({ workspaceId: id, intent: 'order_pizza', text: 'one pizza to go' });
    assert.equal(await status(), 'Training');
    const [last] = await classify(['can I order a big pizza']);
    assert.equal(last!.intents?.[0]?.intent, 'order_pizza');
    assert.deepEqual(last!.intents, (await message('can I order a big pizza', true)).intents);

    await s.store.pool.query('delete from models where workspace_id = $1', [id]);
    const [none] = await classify(['can I order a big pizza']);
    const reply = await message('can I order a big pizza', true);
    assert.deepEqual(none!.intents, []);
    assert.deepEqual(reply.intents, []);
    assert.deepEqual(none!.entities, reply.entities);
    assert.deepEqual(none!.entities?.map((e) => e.value), ['large']);
    assert.ok(reply.output.log_messages.some((m) => m.code === 'workspace_not_trained'));
  });
});
