/**
 * include_count reports the real total on every page, including a cursor past the last one
 * (which has no rows for a window count to ride on).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import AssistantV1 from 'ibm-watson/assistant/v1.js';
import { encodeCursor } from '../../src/workspaces/index.ts';
import { sdkClient } from '../support/api.ts';
import { startTestStore, type TestStore } from '../support/store.ts';

describe('include_count past the last page', () => {
  let s: TestStore;
  let a: AssistantV1;
  let id: string;

  before(async () => {
    s = await startTestStore();
    const t = await s.tenant('gina');
    a = sdkClient(t.serviceUrl, t.token);
    id = (await a.createWorkspace({
      name: 'counted',
      intents: [{ intent: 'one', examples: [{ text: 'a' }, { text: 'b' }] }, { intent: 'two' }],
      entities: [{ entity: 'drink', values: [{ value: 'tea', synonyms: ['chai', 'cha', 'char'] }] }],
      dialogNodes: [{ dialog_node: 'n1' }, { dialog_node: 'n2', previous_sibling: 'n1' }],
      counterexamples: [{ text: 'x' }, { text: 'y' }],
    })).result.workspace_id!;
    await a.createWorkspace({ name: 'second' });
  });
  after(async () => { await s.close(); });

  test('every list reports its total with a cursor past the end, and no items', async () => {
    const past = encodeCursor(50);
    const common = { workspaceId: id, includeCount: true, cursor: past };
    const lists: Array<[string, () => Promise<{ result: any }>, string, number]> = [
      ['workspaces', () => a.listWorkspaces({ includeCount: true, cursor: past }), 'workspaces', 2],
      ['intents', () => a.listIntents(common), 'intents', 2],
      ['examples', () => a.listExamples({ ...common, intent: 'one' }), 'examples', 2],
      ['counterexamples', () => a.listCounterexamples(common), 'counterexamples', 2],
      ['entities', () => a.listEntities(common), 'entities', 1],
      ['values', () => a.listValues({ ...common, entity: 'drink' }), 'values', 1],
      ['synonyms', () => a.listSynonyms({ ...common, entity: 'drink', value: 'tea' }), 'synonyms', 3],
      ['dialog nodes', () => a.listDialogNodes(common), 'dialog_nodes', 2],
    ];
    for (const [name, list, key, total] of lists) {
      const { result } = await list();
      assert.deepEqual(result[key], [], name);
      assert.equal(result.pagination.total, total, name);
      assert.equal(result.pagination.next_cursor, undefined, name);
    }
    // Without include_count there is no total, past the end or not.
    assert.equal((await a.listIntents({ workspaceId: id, cursor: past })).result.pagination.total, undefined);
  });
});

describe('page_limit', () => {
  let s: TestStore;
  let base: string;
  let auth: Record<string, string>;
  before(async () => {
    s = await startTestStore();
    const t = await s.tenant('hana');
    base = t.serviceUrl;
    auth = { authorization: `Bearer ${t.token}` };
  });
  after(async () => { await s.close(); });

  test('takes decimal digits only: hex, exponents, fractions and blanks are 400s naming it', async () => {
    for (const bad of ['0x10', '1e2', '2.0', '%205', '-1', '0', '100001', 'ten']) {
      const res = await fetch(`${base}/v1/workspaces?version=2021-11-27&page_limit=${bad}`, { headers: auth });
      assert.equal(res.status, 400, `page_limit=${bad}`);
      assert.match(JSON.stringify(await res.json()), /page_limit/);
    }
    const ok = await fetch(`${base}/v1/workspaces?version=2021-11-27&page_limit=007`, { headers: auth });
    assert.equal(ok.status, 200);
  });
});
