/**
 * listMentions through the ibm-watson SDK: every intent example whose mentions name the entity,
 * one item per mention, with the example's audit times on request; a renamed entity keeps its
 * mentions; unknown workspaces and entities are the API's usual 404.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type AssistantV1 from 'ibm-watson/assistant/v1.js';
import { sdkClient, sdkRejects } from '../support/api.ts';
import { startTestStore, type TestStore } from '../support/store.ts';

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

describe('entity mentions', () => {
  let s: TestStore;
  let sdk: AssistantV1;
  let id: string;

  before(async () => {
    s = await startTestStore();
    const t = await s.tenant('mentions');
    sdk = sdkClient(t.serviceUrl, t.token);
    id = (await sdk.createWorkspace({
      name: 'mentions',
      entities: [{ entity: 'drink' }, { entity: 'drinks' }, { entity: 'size' }],
      intents: [
        { intent: 'order', examples: [
          { text: 'a large coffee', mentions: [{ entity: 'size', location: [2, 7] }, { entity: 'drink', location: [8, 14] }] },
          { text: 'no mentions here' },
        ] },
        { intent: 'compare', examples: [{ text: 'tea or coffee', mentions: [{ entity: 'drink', location: [0, 3] }, { entity: 'drinks', location: [0, 13] }, { entity: 'drink', location: [7, 13] }] }] },
      ],
    })).result.workspace_id!;
    await sdk.createExample({ workspaceId: id, intent: 'order', text: 'one soda please', mentions: [{ entity: 'drink', location: [4, 8] }] });
  });
  after(async () => { await s.close(); });

  test('lists each mention of the entity with its example text, intent and location', async () => {
    const r = await sdk.listMentions({ workspaceId: id, entity: 'drink' });
    assert.equal(r.status, 200);
    assert.deepEqual(r.result.examples, [
      { text: 'a large coffee', intent: 'order', location: [8, 14] },
      { text: 'one soda please', intent: 'order', location: [4, 8] },
      { text: 'tea or coffee', intent: 'compare', location: [0, 3] },
      { text: 'tea or coffee', intent: 'compare', location: [7, 13] },
    ]);
    assert.match(r.result.pagination.refresh_url, new RegExp(`^/v1/workspaces/${id}/entities/drink/mentions\\?version=`));
    assert.deepEqual((await sdk.listMentions({ workspaceId: id, entity: 'size', _export: true })).result.examples,
      [{ text: 'a large coffee', intent: 'order', location: [2, 7] }]);
  });

  test('follows edits of the examples', async () => {
    await sdk.updateExample({ workspaceId: id, intent: 'order', text: 'no mentions here', newText: 'a small one', newMentions: [{ entity: 'size', location: [2, 7] }] });
    await sdk.updateExample({ workspaceId: id, intent: 'order', text: 'a large coffee', newMentions: [{ entity: 'drink', location: [8, 14] }] });
    assert.deepEqual((await sdk.listMentions({ workspaceId: id, entity: 'size' })).result.examples,
      [{ text: 'a small one', intent: 'order', location: [2, 7] }]);
  });

  test('include_audit adds the created and updated times of the mentioning example', async () => {
    const audited = (await sdk.listMentions({ workspaceId: id, entity: 'drink', includeAudit: true })).result.examples as Array<AssistantV1.EntityMention & { created?: string; updated?: string }>;
    assert.equal(audited.length, 4);
    const example = (await sdk.getExample({ workspaceId: id, intent: 'order', text: 'one soda please', includeAudit: true })).result;
    const soda = audited.find((m) => m.text === 'one soda please')!;
    assert.match(soda.created!, ISO);
    assert.deepEqual([soda.created, soda.updated], [example.created, example.updated]);
    assert.ok(audited.every((m) => ISO.test(m.created!) && ISO.test(m.updated!)));
  });

  test('an entity nobody mentions has an empty list', async () => {
    await sdk.createEntity({ workspaceId: id, entity: 'topping' });
    const r = await sdk.listMentions({ workspaceId: id, entity: 'topping' });
    assert.deepEqual(r.result.examples, []);
    assert.ok(r.result.pagination.refresh_url);
  });

  test('a renamed entity takes its mentions along; other entities\' mentions are untouched', async () => {
    const ws = (await sdk.createWorkspace({
      name: 'rename',
      entities: [{ entity: 'drink' }, { entity: 'size' }],
      intents: [{ intent: 'order', examples: [
        { text: 'a large tea and a tea', mentions: [{ entity: 'size', location: [2, 7] }, { entity: 'drink', location: [8, 11] }, { entity: 'drink', location: [18, 21] }] },
      ] }],
    })).result.workspace_id!;
    await sdk.updateEntity({ workspaceId: ws, entity: 'drink', newEntity: 'beverage' });
    assert.deepEqual((await sdk.listMentions({ workspaceId: ws, entity: 'beverage' })).result.examples,
      [{ text: 'a large tea and a tea', intent: 'order', location: [8, 11] }, { text: 'a large tea and a tea', intent: 'order', location: [18, 21] }]);
    const example = (await sdk.getExample({ workspaceId: ws, intent: 'order', text: 'a large tea and a tea' })).result;
    assert.deepEqual(example.mentions, [{ entity: 'size', location: [2, 7] }, { entity: 'beverage', location: [8, 11] }, { entity: 'beverage', location: [18, 21] }]);
  });

  test('an unknown workspace or entity is 404 with the usual body; bad query values are 400', async () => {
    const noEntity = await sdkRejects(sdk.listMentions({ workspaceId: id, entity: 'nothing' }), 404);
    assert.deepEqual(JSON.parse(noEntity.body), { error: 'Resource not found', code: 404 });
    const noWorkspace = await sdkRejects(sdk.listMentions({ workspaceId: '00000000-0000-4000-8000-000000000000', entity: 'drink' }), 404);
    assert.deepEqual(JSON.parse(noWorkspace.body), { error: 'Resource not found', code: 404 });
    const other = await s.tenant('someone-else');
    await sdkRejects(sdkClient(other.serviceUrl, other.token).listMentions({ workspaceId: id, entity: 'drink' }), 404);
    const bad = await sdkRejects(sdk.listMentions({ workspaceId: id, entity: 'drink', includeAudit: 'yes' as never }), 400);
    assert.equal(bad.message, 'include_audit must be true or false');
  });
});
