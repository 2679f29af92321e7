/**
 * Entity values and system entities through the ibm-watson SDK: value updates (rename, synonyms,
 * patterns, type changes) and the rule that a system entity is enabled, never given values.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import AssistantV1 from 'ibm-watson/assistant/v1.js';
import { sdkRejects as rejects, sdkClient } from '../support/api.ts';
import { startTestStore, type TestStore } from '../support/store.ts';


describe('entity values and system entities through the SDK', () => {
  let s: TestStore;
  let a: AssistantV1;
  let id: string;

  before(async () => {
    s = await startTestStore();
    const t = await s.tenant('erin');
    a = sdkClient(t.serviceUrl, t.token);
    id = (await a.createWorkspace({
      name: 'values',
      entities: [
        { entity: 'drink', values: [{ value: 'soda', synonyms: ['pop'] }, { value: 'code', type: 'patterns', patterns: ['[A-Z]{3}'] }] },
        { entity: 'sys-number' },
      ],
    })).result.workspace_id!;
  });
  after(async () => { await s.close(); });

  const value = async (v: string) => (await a.getValue({ workspaceId: id, entity: 'drink', value: v, _export: true })).result;

  test('updateValue renames, replaces or appends synonyms, sets metadata, and switches type', async () => {
    const renamed = await a.updateValue({ workspaceId: id, entity: 'drink', value: 'soda', newValue: 'soft drink', newMetadata: { kind: 'fizzy' } });
    assert.equal(renamed.status, 200);
    assert.deepEqual(renamed.result, { value: 'soft drink', type: 'synonyms', metadata: { kind: 'fizzy' }, synonyms: ['pop'] });
    await rejects(a.getValue({ workspaceId: id, entity: 'drink', value: 'soda' }), 404);

    await a.updateValue({ workspaceId: id, entity: 'drink', value: 'soft drink', newSynonyms: ['fizzy pop', 'cola'] });
    assert.deepEqual((await value('soft drink')).synonyms, ['fizzy pop', 'cola']);
    await a.updateValue({ workspaceId: id, entity: 'drink', value: 'soft drink', newSynonyms: ['lemonade'], append: true });
    assert.deepEqual((await value('soft drink')).synonyms, ['fizzy pop', 'cola', 'lemonade']);

    const toPatterns = await a.updateValue({ workspaceId: id, entity: 'drink', value: 'soft drink', newType: 'patterns', newPatterns: ['\\bsoda\\b'] });
    assert.deepEqual(toPatterns.result, { value: 'soft drink', type: 'patterns', metadata: { kind: 'fizzy' }, patterns: ['\\bsoda\\b'] });
    const back = await a.updateValue({ workspaceId: id, entity: 'drink', value: 'soft drink', newType: 'synonyms', newSynonyms: ['pop'] });
    assert.deepEqual(back.result, { value: 'soft drink', type: 'synonyms', metadata: { kind: 'fizzy' }, synonyms: ['pop'] });

    // Without newType the stored type applies: patterns extend a patterns value.
    await a.updateValue({ workspaceId: id, entity: 'drink', value: 'code', newPatterns: ['\\d{4}'], append: true });
    assert.deepEqual((await value('code')).patterns, ['[A-Z]{3}', '\\d{4}']);
  });

  test('updateValue refuses synonyms on a patterns value and patterns on a synonyms value, naming the field', async () => {
    const before = await value('code');
    const synOnPatterns = await rejects(a.updateValue({ workspaceId: id, entity: 'drink', value: 'code', newSynonyms: ['abc'] }), 400);
    assert.match(synOnPatterns.message, /^synonyms are not allowed on a value of type patterns: send type "synonyms"/);
    assert.equal(JSON.parse(synOnPatterns.body).errors[0].path, '/synonyms');
    const patOnSynonyms = await rejects(a.updateValue({ workspaceId: id, entity: 'drink', value: 'code', newType: 'synonyms', newPatterns: ['x'] }), 400);
    assert.match(patOnSynonyms.message, /^patterns are not allowed on a value of type synonyms/);
    await rejects(a.createValue({ workspaceId: id, entity: 'drink', value: 'mixed', type: 'patterns', synonyms: ['a'] }), 400);
    assert.deepEqual(await value('code'), before);
  });

  test('a system entity never holds values and the sys- namespace cannot be entered or left by a rename', async () => {
    const sys = await rejects(a.updateEntity({ workspaceId: id, entity: 'sys-number', newValues: [{ value: 'one' }] }), 400);
    assert.match(sys.message, /"sys-number" is a system entity and cannot have values/);
    await rejects(a.updateEntity({ workspaceId: id, entity: 'sys-number', newValues: [{ value: 'one' }], append: true }), 400);
    const created = await rejects(a.createValue({ workspaceId: id, entity: 'sys-number', value: 'one' }), 400);
    assert.match(created.message, /"sys-number" is a system entity and cannot have values/);
    const into = await rejects(a.updateEntity({ workspaceId: id, entity: 'drink', newEntity: 'sys-date' }), 400);
    assert.match(into.message, /cannot be renamed to the system entity "sys-date"/);
    const outOf = await rejects(a.updateEntity({ workspaceId: id, entity: 'sys-number', newEntity: 'number' }), 400);
    assert.match(outOf.message, /system entity "sys-number" cannot be renamed/);
    await rejects(a.updateEntity({ workspaceId: id, entity: 'sys-number', newEntity: 'sys-date' }), 400);

    // What stays allowed: other changes to a system entity, an empty values list, and values
    // sent when enabling one (ignored, spec §2.2).
    await a.updateEntity({ workspaceId: id, entity: 'sys-number', newDescription: 'numbers', newValues: [] });
    await a.createEntity({ workspaceId: id, entity: 'sys-date', values: [{ value: 'ignored' }] });
    const entities = (await a.listEntities({ workspaceId: id, _export: true })).result.entities;
    assert.deepEqual(entities.filter((e) => e.entity.startsWith('sys-')).map((e) => [e.entity, e.description, e.values]),
      [['sys-number', 'numbers', []], ['sys-date', undefined, []]]);
    assert.ok(entities.some((e) => e.entity === 'drink'));
  });
});
