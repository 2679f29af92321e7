/**
 * The official ibm-watson SDK as the client: every fixture imports and exports back unchanged,
 * lists paginate, updates append, elements are managed one by one, and tenants stay apart.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import AssistantV1 from 'ibm-watson/assistant/v1.js';
import { sdkClient as client, sdkRejects as rejects } from '../support/api.ts';
import { startTestStore, type TestStore } from '../support/store.ts';
import { normaliseSkill, ownSkills, sharedSkills, type Skill } from '../support/skills.ts';

function createParams(skill: Skill): AssistantV1.CreateWorkspaceParams {
  return {
    name: skill.name, description: skill.description, language: skill.language, metadata: skill.metadata,
    learningOptOut: skill.learning_opt_out, systemSettings: skill.system_settings, webhooks: skill.webhooks,
    intents: skill.intents, entities: skill.entities, dialogNodes: skill.dialog_nodes, counterexamples: skill.counterexamples,
  };
}


describe('v1 API through the ibm-watson SDK', () => {
  let s: TestStore;
  let alice: { instanceId: string; token: string; serviceUrl: string };
  let bob: { instanceId: string; token: string; serviceUrl: string };
  let a: AssistantV1;

  before(async () => {
    s = await startTestStore();
    alice = await s.tenant('alice');
    bob = await s.tenant('bob');
    a = client(alice.serviceUrl, alice.token);
  });
  after(async () => { await s.close(); });

  test('own fixtures import and export unchanged, and the workspace id never changes', async () => {
    for (const { name, skill } of ownSkills()) {
      const created = await a.createWorkspace(createParams(skill));
      assert.equal(created.status, 201, name);
      const id = created.result.workspace_id!;
      const exported = await a.getWorkspace({ workspaceId: id, _export: true });
      assert.deepEqual(normaliseSkill(exported.result), normaliseSkill(skill), name);
      assert.equal(exported.result.workspace_id, id);
      assert.equal(exported.result.webhooks?.[0]?.headers?.[0]?.value, skill.webhooks?.[0]?.headers?.[0]?.value, 'webhook secret decrypts');
    }
  });

  test('every shared fixture imports and exports unchanged', async (t) => {
    const skills = sharedSkills();
    if (!skills) { t.diagnostic('../shared/fixtures/workspaces not found: skipping the shared fixtures'); return; }
    assert.equal(skills.length, 10);
    for (const { name, skill } of skills) {
      const created = await a.createWorkspace(createParams(skill));
      const exported = await a.getWorkspace({ workspaceId: created.result.workspace_id!, _export: true, sort: 'stable' });
      const sortedExpected = normaliseSkill(skill);
      const got = normaliseSkill(exported.result);
      // sort=stable orders elements by id; compare as sets of elements by sorting both the same way.
      const byKey = (k: string) => (x: Skill, y: Skill) => (x[k] < y[k] ? -1 : x[k] > y[k] ? 1 : 0);
      for (const [coll, key] of [['intents', 'intent'], ['entities', 'entity'], ['dialog_nodes', 'dialog_node'], ['counterexamples', 'text']] as const) {
        sortedExpected[coll].sort(byKey(key));
      }
      for (const i of sortedExpected.intents) i.examples.sort(byKey('text'));
      for (const e of sortedExpected.entities) { e.values.sort(byKey('value')); for (const v of e.values) v.synonyms?.sort(); }
      assert.deepEqual(got, sortedExpected, name);
      const plain = await a.getWorkspace({ workspaceId: created.result.workspace_id!, _export: true });
      assert.deepEqual(normaliseSkill(plain.result), normaliseSkill(skill), `${name} (input order)`);
    }
  });

  test('lists paginate with cursors and count totals; the CP4D URL form works', async () => {
    for (let i = 0; i < 3; i++) await a.createWorkspace({ name: `page-${i}` });
    const all = (await a.listWorkspaces({ includeCount: true })).result;
    const total = all.pagination.total!;
    assert.equal(all.workspaces.length, total);
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = (await a.listWorkspaces({ pageLimit: 2, cursor, sort: 'name', includeCount: true })).result;
      assert.ok(page.pagination.refresh_url.startsWith('/v1/workspaces?'));
      assert.equal(page.pagination.total, total);
      seen.push(...page.workspaces.map((w) => w.name));
      cursor = page.pagination.next_cursor;
      if (cursor) assert.match(page.pagination.next_url!, /cursor=/);
      pages++;
    } while (cursor);
    assert.equal(seen.length, total);
    assert.deepEqual(seen, [...seen].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0)));
    assert.equal(pages, Math.ceil(total / 2));
    const cpd = client(`${s.url}/assistant/cpd-release/instances/${alice.instanceId}/api/`, alice.token, '2020-04-01');
    assert.equal((await cpd.listWorkspaces()).result.workspaces.length, total);
  });

  test('update with append adds elements; without it, collections are replaced', async () => {
    const id = (await a.createWorkspace({ name: 'upd', intents: [{ intent: 'one', examples: [{ text: 'first' }] }] })).result.workspace_id!;
    const appended = await a.updateWorkspace({ workspaceId: id, name: 'upd2', intents: [{ intent: 'two', examples: [{ text: 'second' }] }], append: true });
    assert.deepEqual(appended.result.intents?.map((i) => i.intent), ['one', 'two']);
    assert.equal(appended.result.name, 'upd2');
    await rejects(a.updateWorkspace({ workspaceId: id, intents: [{ intent: 'one' }], append: true }), 409);
    const replaced = await a.updateWorkspace({ workspaceId: id, intents: [{ intent: 'three' }] });
    assert.deepEqual(replaced.result.intents?.map((i) => i.intent), ['three']);
    const described = await a.updateWorkspace({ workspaceId: id, description: 'kept intents' });
    assert.deepEqual(described.result.intents?.map((i) => i.intent), ['three']);
  });

  test('intents, examples, counterexamples, entities, values, synonyms and nodes one by one', async () => {
    const id = (await a.createWorkspace({ name: 'elements' })).result.workspace_id!;
    const weird = 'order drink/ü?';
    const intent = await a.createIntent({ workspaceId: id, intent: 'order', description: 'orders', examples: [{ text: 'a coffee' }], includeAudit: true });
    assert.equal(intent.status, 201);
    assert.match(intent.result.created!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    await rejects(a.createIntent({ workspaceId: id, intent: 'order' }), 409);
    const bad = await rejects(a.createIntent({ workspaceId: id, intent: 'sys-bad' }), 400);
    assert.equal(bad.message, 'Intent name cannot start with sys-');
    await a.createExample({ workspaceId: id, intent: 'order', text: weird, mentions: [] });
    assert.equal((await a.getExample({ workspaceId: id, intent: 'order', text: weird })).result.text, weird);
    await a.updateExample({ workspaceId: id, intent: 'order', text: weird, newText: 'renamed example' });
    const examples = (await a.listExamples({ workspaceId: id, intent: 'order', sort: '-text' })).result.examples.map((e) => e.text);
    assert.deepEqual(examples, ['renamed example', 'a coffee']);
    await a.updateIntent({ workspaceId: id, intent: 'order', newIntent: 'order.v2', newExamples: [{ text: 'only this' }] });
    const got = await a.getIntent({ workspaceId: id, intent: 'order.v2', _export: true });
    assert.deepEqual(got.result.examples?.map((e) => e.text), ['only this']);
    await a.deleteExample({ workspaceId: id, intent: 'order.v2', text: 'only this' });
    await rejects(a.getExample({ workspaceId: id, intent: 'order.v2', text: 'only this' }), 404);

    await a.createCounterexample({ workspaceId: id, text: 'not for us' });
    await a.updateCounterexample({ workspaceId: id, text: 'not for us', newText: 'still not for us' });
    assert.deepEqual((await a.listCounterexamples({ workspaceId: id })).result.counterexamples.map((c) => c.text), ['still not for us']);
    await a.deleteCounterexample({ workspaceId: id, text: 'still not for us' });

    await a.createEntity({ workspaceId: id, entity: 'drink', fuzzyMatch: true, values: [{ value: 'soda', synonyms: ['pop'] }] });
    await a.createEntity({ workspaceId: id, entity: 'sys-number' });
    await a.createValue({ workspaceId: id, entity: 'drink', value: 'tea/chai', synonyms: ['green tea'] });
    await a.createSynonym({ workspaceId: id, entity: 'drink', value: 'soda', synonym: 'soft drink' });
    await a.updateSynonym({ workspaceId: id, entity: 'drink', value: 'soda', synonym: 'pop', newSynonym: 'fizzy pop' });
    const values = (await a.listValues({ workspaceId: id, entity: 'drink', _export: true })).result.values;
    assert.deepEqual(values.map((v) => [v.value, v.type, v.synonyms]), [['soda', 'synonyms', ['fizzy pop', 'soft drink']], ['tea/chai', 'synonyms', ['green tea']]]);
    await a.createValue({ workspaceId: id, entity: 'drink', value: 'code', type: 'patterns', patterns: ['[A-Z]{3}'] });
    assert.deepEqual((await a.getValue({ workspaceId: id, entity: 'drink', value: 'code', _export: true })).result.patterns, ['[A-Z]{3}']);
    await a.deleteSynonym({ workspaceId: id, entity: 'drink', value: 'soda', synonym: 'soft drink' });
    await a.deleteValue({ workspaceId: id, entity: 'drink', value: 'tea/chai' });
    await a.updateEntity({ workspaceId: id, entity: 'drink', newEntity: 'beverage' });
    const entities = (await a.listEntities({ workspaceId: id, _export: true })).result.entities;
    assert.deepEqual(entities.map((e) => [e.entity, e.values?.length]), [['beverage', 2], ['sys-number', 0]]);
    await a.deleteEntity({ workspaceId: id, entity: 'beverage' });

    await a.createDialogNode({ workspaceId: id, dialogNode: 'root', conditions: '#order.v2', title: 'Root', output: { generic: [{ response_type: 'text', values: [{ text: 'ok' }] }] } as never });
    await a.createDialogNode({ workspaceId: id, dialogNode: 'child', parent: 'root' });
    await a.createDialogNode({ workspaceId: id, dialogNode: 'next', previousSibling: 'root', nextStep: { behavior: 'jump_to', dialog_node: 'root', selector: 'body' } });
    await a.updateDialogNode({ workspaceId: id, dialogNode: 'root', newDialogNode: 'root2' });
    const nodes = (await a.listDialogNodes({ workspaceId: id })).result.dialog_nodes;
    assert.deepEqual(nodes.map((n) => [n.dialog_node, n.parent, n.previous_sibling, n.next_step?.dialog_node]),
      [['root2', undefined, undefined, undefined], ['child', 'root2', undefined, undefined], ['next', undefined, 'root2', 'root2']]);
    await rejects(a.createDialogNode({ workspaceId: id, dialogNode: 'orphan', parent: 'nope' }), 400);
    await rejects(a.deleteDialogNode({ workspaceId: id, dialogNode: 'root2' }), 400); // 'next' jumps to it
    await a.updateDialogNode({ workspaceId: id, dialogNode: 'next', newNextStep: { behavior: 'skip_user_input' } });
    await a.deleteDialogNode({ workspaceId: id, dialogNode: 'root2' });
    assert.deepEqual((await a.listDialogNodes({ workspaceId: id })).result.dialog_nodes.map((n) => [n.dialog_node, n.previous_sibling]), [['next', undefined]]);
    assert.deepEqual((await a.deleteWorkspace({ workspaceId: id })).result, {});
    await rejects(a.getWorkspace({ workspaceId: id }), 404);
  });

  test('tenancy: another user cannot see or touch the instance; revoked and forged tokens get 401', async () => {
    const id = (await a.createWorkspace({ name: 'private' })).result.workspace_id!;
    const b = client(bob.serviceUrl, bob.token);
    assert.equal((await b.listWorkspaces()).result.workspaces.length, 0);
    const bOnA = client(alice.serviceUrl, bob.token);
    await rejects(bOnA.listWorkspaces(), 404);
    await rejects(bOnA.getWorkspace({ workspaceId: id }), 404);
    await rejects(bOnA.deleteWorkspace({ workspaceId: id }), 404);
    const bOwnUrlAliceWs = client(bob.serviceUrl, bob.token);
    await rejects(bOwnUrlAliceWs.getWorkspace({ workspaceId: id }), 404);
    await rejects(client(alice.serviceUrl, 'ast_forged').listWorkspaces(), 401);
    const { createToken, revokeToken } = await import('../../src/auth/index.ts');
    const t = await createToken(s.store.pool, 'alice');
    assert.equal((await client(alice.serviceUrl, t.token).listWorkspaces()).status, 200);
    await revokeToken(s.store.pool, t.id);
    const err = await rejects(client(alice.serviceUrl, t.token).listWorkspaces(), 401);
    assert.equal(err.message, 'Access is denied due to invalid credentials.');
    const rc = await fetch(`${s.url}/api/ibmcloud/resource-controller/v2/resource_instances`, { headers: { authorization: `Bearer ${bob.token}` } });
    const body = await rc.json() as { resources: Array<{ guid: string }> };
    assert.deepEqual(body.resources.map((r) => r.guid), [bob.instanceId]);
    assert.equal((await a.getWorkspace({ workspaceId: id })).result.name, 'private');
  });
});
