/**
 * Paging through every list: include_count reports the real total on every page, the cursor is
 * the last row's sort key (rows created or deleted between two pages neither repeat a row nor
 * skip one, which an offset did), and a cursor from another sort order or edited by hand is a 400.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import AssistantV1 from 'ibm-watson/assistant/v1.js';
import { sdkClient } from '../support/api.ts';
import { startTestStore, type TestStore } from '../support/store.ts';

describe('cursors', () => {
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

  test('every list pages one row at a time to its end, with its total on every page', async () => {
    type Lister = (extra: { cursor?: string; pageLimit: number; includeCount: boolean; sort?: string }) => Promise<{ result: any }>;
    const common = { workspaceId: id };
    const lists: Array<[string, Lister, string, string[]]> = [
      ['workspaces', (x) => a.listWorkspaces(x), 'workspaces', ['counted', 'second']],
      ['intents', (x) => a.listIntents({ ...common, ...x }), 'intents', ['one', 'two']],
      ['examples', (x) => a.listExamples({ ...common, intent: 'one', ...x }), 'examples', ['a', 'b']],
      ['counterexamples', (x) => a.listCounterexamples({ ...common, ...x }), 'counterexamples', ['x', 'y']],
      ['entities', (x) => a.listEntities({ ...common, ...x }), 'entities', ['drink']],
      ['values', (x) => a.listValues({ ...common, entity: 'drink', ...x }), 'values', ['tea']],
      ['synonyms', (x) => a.listSynonyms({ ...common, entity: 'drink', value: 'tea', ...x }), 'synonyms', ['chai', 'cha', 'char']],
      ['dialog nodes', (x) => a.listDialogNodes({ ...common, ...x }), 'dialog_nodes', ['n1', 'n2']],
    ];
    const label = (item: any): string => item.name ?? item.intent ?? item.text ?? item.entity ?? item.value ?? item.synonym ?? item.dialog_node;
    for (const [name, list, key, want] of lists) {
      for (const sort of [undefined, '-updated']) {
        const seen: string[] = [];
        let cursor: string | undefined;
        for (let pages = 0; ; pages++) {
          assert.ok(pages <= want.length, `${name}: more pages than rows`);
          const { result } = await list({ pageLimit: 1, includeCount: true, ...(sort ? { sort } : {}), ...(cursor ? { cursor } : {}) });
          assert.equal(result.pagination.total, want.length, name);
          seen.push(...result[key].map(label));
          cursor = result.pagination.next_cursor;
          if (!cursor) break;
          assert.match(result.pagination.next_url, new RegExp(`cursor=${cursor}`), name);
        }
        assert.deepEqual(seen.sort(), [...want].sort(), `${name} sort=${sort}`);
      }
    }
    // Without include_count there is no total.
    assert.equal((await a.listIntents({ workspaceId: id })).result.pagination.total, undefined);
  });

  test('rows deleted or created between two pages neither skip a row nor repeat one', async () => {
    const ws = (await a.createWorkspace({ name: 'paged', intents: Array.from({ length: 9 }, (_, i) => ({ intent: `m${i}` })) })).result.workspace_id!;
    const names = (r: { result: any }): string[] => r.result.intents.map((i: { intent: string }) => i.intent);
    const first = await a.listIntents({ workspaceId: ws, pageLimit: 3, sort: 'intent' });
    assert.deepEqual(names(first), ['m0', 'm1', 'm2']);
    // Deleting the rows already read: an offset cursor then skipped m3, m4 and m5.
    for (const i of ['m0', 'm1']) await a.deleteIntent({ workspaceId: ws, intent: i });
    const second = await a.listIntents({ workspaceId: ws, pageLimit: 3, sort: 'intent', cursor: first.result.pagination.next_cursor });
    assert.deepEqual(names(second), ['m3', 'm4', 'm5']);
    // Creating a row before the cursor: an offset cursor then returned m5 again.
    await a.createIntent({ workspaceId: ws, intent: 'a0' });
    const third = await a.listIntents({ workspaceId: ws, pageLimit: 3, sort: 'intent', cursor: second.result.pagination.next_cursor, includeCount: true });
    assert.deepEqual(names(third), ['m6', 'm7', 'm8']);
    assert.equal(third.result.pagination.total, 8);
    assert.equal(third.result.pagination.next_cursor, undefined);
  });

  test('a cursor used with another sort, or edited by hand, is a 400 that says to start again', async () => {
    const first = await a.listIntents({ workspaceId: id, pageLimit: 1, sort: 'intent' });
    const cursor = first.result.pagination.next_cursor as string;
    const bad = [
      [cursor, '-intent'],
      [Buffer.from(JSON.stringify({ s: 'intent', k: ['one', 'not-a-number'] })).toString('base64url'), 'intent'],
      [Buffer.from(JSON.stringify({ s: 'intent', k: ['one'] })).toString('base64url'), 'intent'],
      [Buffer.from('o:50').toString('base64url'), 'intent'],
    ];
    for (const [c, sort] of bad) {
      await assert.rejects(a.listIntents({ workspaceId: id, cursor: c!, sort: sort! }), (e: { status?: number; body?: string }) => {
        assert.equal(e.status, 400, `${c} ${sort}`);
        assert.match(String(e.body), /cursor .*repeat the request without cursor/);
        return true;
      });
    }
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
