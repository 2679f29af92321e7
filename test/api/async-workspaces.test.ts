/**
 * The async workspace API through the ibm-watson SDK: createWorkspaceAsync and
 * updateWorkspaceAsync answer 202 and take skills over the 1.5 MB sync limit (up to their own
 * limit), a client polling for `Available` gets there, and exportWorkspaceAsync returns the whole
 * skill (with `counts` when verbose). Writes are refused while a restore runs, like the sync ones,
 * and a caller without a valid token is refused before its (possibly huge) body is read.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type AssistantV1 from 'ibm-watson/assistant/v1.js';
import { createService, type Service } from '../../src/service/index.ts';
import { sdkClient, sdkRejects } from '../support/api.ts';
import { startTestStore, type TestStore } from '../support/store.ts';

/** Over the sync limit (1.5 MB) and under a 3 MB async limit: the size is in metadata, so training stays quick. */
const BIG = 'x'.repeat(2_000_000);
const ASYNC_LIMIT = 3_000_000;

const skill = (name: string, intents: string[]): AssistantV1.CreateWorkspaceAsyncParams => ({
  name,
  metadata: { notes: BIG },
  intents: intents.map((intent) => ({ intent, examples: [`${intent} please`, `I want ${intent}`, `help with ${intent}`].map((text) => ({ text })) })),
  entities: [{ entity: 'size', values: [{ value: 'large', synonyms: ['big'] }] }],
  dialogNodes: [{ dialog_node: 'welcome', conditions: 'welcome', output: { generic: [{ response_type: 'text', values: [{ text: 'Hi' }] }] } }],
});

describe('async workspace API', () => {
  let s: TestStore;
  let svc: Service;
  let sdk: AssistantV1;
  let blocked: string | undefined;
  let url: string;
  let instanceId: string;

  const available = async (id: string): Promise<void> => {
    const deadline = Date.now() + 60_000;
    while ((await sdk.getWorkspace({ workspaceId: id })).result.status !== 'Available') {
      assert.ok(Date.now() < deadline, 'the workspace did not become Available within 60 s');
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  before(async () => {
    s = await startTestStore();
    svc = createService(s.store, {
      env: { ASTORE_MAX_ASYNC_BODY_BYTES: String(ASYNC_LIMIT) },
      trainer: { concurrency: 1, pollMs: 50 }, debounceMs: 20, writesBlocked: async () => blocked,
    });
    url = await svc.app.listen({ host: '127.0.0.1', port: 0 });
    const t = await s.tenant('async');
    instanceId = t.instanceId;
    sdk = sdkClient(`${url}/instances/${t.instanceId}/api`, t.token);
  });
  after(async () => { await svc.close(); await s.close(); });

  test('a skill over the sync limit: createWorkspace is 413, createWorkspaceAsync is 202 and trains to Available', async () => {
    const tooBig = await sdkRejects(sdk.createWorkspace(skill('sync', ['order'])), 413);
    // The SDK shows errors[0].message when there is one, or the body: either way the limit and the way out.
    assert.match(tooBig.body, /limit of 1572864 bytes \(set by ASTORE_MAX_BODY_BYTES\); send a workspace this large to POST \/instances\/[^/]+\/api\/v1\/workspaces_async, which takes up to 3000000 bytes/);
    const created = await sdk.createWorkspaceAsync(skill('big', ['order', 'cancel']));
    assert.equal(created.status, 202);
    const id = created.result.workspace_id!;
    assert.equal(created.result.name, 'big');
    assert.ok(['Training', 'Available'].includes(created.result.status!), `status ${created.result.status}`);
    assert.equal(created.result.intents, undefined, 'the answer is the workspace, not its export');
    await available(id);

    const exported = (await sdk.exportWorkspaceAsync({ workspaceId: id, verbose: true, sort: 'stable', includeAudit: true })).result;
    assert.deepEqual(exported.intents?.map((i) => i.intent), ['cancel', 'order']);
    assert.equal((exported.metadata as { notes: string }).notes.length, BIG.length);
    assert.deepEqual(exported.counts, { intent: 2, entity: 1, node: 1 });
    assert.ok(exported.created, 'include_audit gives the audit fields');
    const plain = (await sdk.exportWorkspaceAsync({ workspaceId: id })).result;
    assert.equal(plain.counts, undefined, 'counts only when verbose');
    assert.equal(plain.entities?.[0]?.values?.[0]?.synonyms?.[0], 'big');
  });

  test('updateWorkspaceAsync: 202, append keeps what is there, without append the lists are replaced', async () => {
    const id = (await sdk.createWorkspaceAsync(skill('updates', ['order']))).result.workspace_id!;
    const appended = await sdk.updateWorkspaceAsync({ workspaceId: id, intents: [{ intent: 'refund', examples: [{ text: 'give me my money back' }] }], metadata: { notes: BIG }, append: true });
    assert.equal(appended.status, 202);
    assert.deepEqual((await sdk.exportWorkspaceAsync({ workspaceId: id })).result.intents?.map((i) => i.intent).sort(), ['order', 'refund']);
    await sdk.updateWorkspaceAsync({ workspaceId: id, intents: [{ intent: 'only', examples: [{ text: 'the only one' }] }] });
    assert.deepEqual((await sdk.exportWorkspaceAsync({ workspaceId: id })).result.intents?.map((i) => i.intent), ['only']);
    await available(id);
  });

  test('a caller without a valid token is turned away before the body is read: 401, not a parse error', async () => {
    const junk = '{' + 'x'.repeat(2_000_000); // over the sync limit, under the async one, and not JSON
    for (const auth of [{}, { authorization: 'Bearer not-a-token' }] as Array<Record<string, string>>) {
      const r = await fetch(`${url}/instances/${instanceId}/api/v1/workspaces_async?version=2021-11-27`, {
        method: 'POST', headers: { 'content-type': 'application/json', ...auth }, body: junk,
      });
      assert.equal(r.status, 401, await r.text());
    }
  });

  test('with the sync limit set above the async one, both routes take the sync limit and the 413 names the setting in force', async () => {
    const wide = createService(s.store, {
      env: { ASTORE_MAX_BODY_BYTES: '200000', ASTORE_MAX_ASYNC_BODY_BYTES: '100000' },
      trainer: false, debounceMs: 20,
    });
    try {
      const t = await s.tenant('async-wide');
      const client = sdkClient(`${await wide.app.listen({ host: '127.0.0.1', port: 0 })}/instances/${t.instanceId}/api`, t.token);
      // 150 kB: over the async setting, under the sync one; the async route takes it anyway.
      const mid = await client.createWorkspaceAsync({ name: 'mid', metadata: { notes: 'x'.repeat(150_000) } });
      assert.equal(mid.status, 202);
      const overAsync = await sdkRejects(client.createWorkspaceAsync({ name: 'big', metadata: { notes: 'x'.repeat(200_000) } }), 413);
      assert.match(overAsync.body, /limit of 200000 bytes \(set by ASTORE_MAX_BODY_BYTES\)"/);
      // The async route is no larger here, so a sync write is not sent there.
      const overSync = await sdkRejects(client.createWorkspace({ name: 'big', metadata: { notes: 'x'.repeat(200_000) } }), 413);
      assert.match(overSync.body, /limit of 200000 bytes \(set by ASTORE_MAX_BODY_BYTES\)"/);
      assert.doesNotMatch(overSync.body, /workspaces_async/);
    } finally {
      await wide.close();
    }
  });

  test('the async limit holds, an unknown workspace is 404, and a running restore refuses async writes', async () => {
    const tooBig = await sdkRejects(sdk.createWorkspaceAsync({ name: 'too big', metadata: { notes: 'x'.repeat(ASYNC_LIMIT) } }), 413);
    assert.match(tooBig.body, /limit of 3000000 bytes \(set by ASTORE_MAX_ASYNC_BODY_BYTES\)"/);
    await sdkRejects(sdk.exportWorkspaceAsync({ workspaceId: '00000000-0000-4000-8000-000000000000' }), 404);
    await sdkRejects(sdk.updateWorkspaceAsync({ workspaceId: '00000000-0000-4000-8000-000000000000', name: 'x' }), 404);
    blocked = 'a restore is running';
    try {
      const e = await sdkRejects(sdk.createWorkspaceAsync({ name: 'during restore' }), 503);
      assert.match(e.message, /a restore is running/);
    } finally {
      blocked = undefined;
    }
  });
});
