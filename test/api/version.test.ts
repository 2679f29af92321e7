/**
 * The `version` date: include_audit defaults to true before 2018-02-16 (spec §1.3, the API change
 * of that date made it false), and a value that is not a calendar date is refused.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import AssistantV1 from 'ibm-watson/assistant/v1.js';
import { sdkClient, sdkRejects } from '../support/api.ts';
import { startTestStore, type TestStore } from '../support/store.ts';

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

describe('version-dependent behaviour', () => {
  let s: TestStore;
  let tenant: { serviceUrl: string; token: string };
  let id: string;

  before(async () => {
    s = await startTestStore();
    tenant = await s.tenant('vera');
    id = (await sdkClient(tenant.serviceUrl, tenant.token).createWorkspace({
      name: 'dated', intents: [{ intent: 'hello', examples: [{ text: 'hi' }] }],
    })).result.workspace_id!;
  });
  after(async () => { await s.close(); });

  test('before 2018-02-16, responses carry created and updated unless include_audit=false', async () => {
    const old: AssistantV1 = sdkClient(tenant.serviceUrl, tenant.token, '2017-05-26');
    const ws = (await old.getWorkspace({ workspaceId: id })).result;
    assert.match(ws.created ?? '', ISO);
    assert.match(ws.updated ?? '', ISO);
    const listed = (await old.listWorkspaces()).result.workspaces[0]!;
    assert.match(listed.created ?? '', ISO);
    const intents = (await old.listIntents({ workspaceId: id, _export: true })).result.intents;
    assert.match(intents[0]!.created ?? '', ISO);
    assert.match(intents[0]!.examples![0]!.updated ?? '', ISO);
    const created = (await old.createCounterexample({ workspaceId: id, text: 'nope' })).result;
    assert.match(created.created ?? '', ISO);
    assert.equal((await old.getWorkspace({ workspaceId: id, includeAudit: false })).result.created, undefined);
  });

  test('from 2018-02-16, audit fields appear only with include_audit=true', async () => {
    for (const version of ['2018-02-16', '2021-11-27']) {
      const client = sdkClient(tenant.serviceUrl, tenant.token, version);
      assert.equal((await client.getWorkspace({ workspaceId: id })).result.created, undefined, version);
      assert.equal((await client.listIntents({ workspaceId: id })).result.intents[0]!.created, undefined, version);
      assert.match((await client.getWorkspace({ workspaceId: id, includeAudit: true })).result.created ?? '', ISO, version);
    }
  });

  test('a version that is not a calendar date is a 400', async () => {
    for (const version of ['2021-13-01', '2021-02-30', '2021-00-10']) {
      const err = await sdkRejects(sdkClient(tenant.serviceUrl, tenant.token, version).listWorkspaces(), 400);
      assert.match(err.message, /version must be a date/, version);
    }
  });

  test('error paths are dot notation before 2018-09-20 and JSON Pointers from then on', async () => {
    const paths = async (version: string, call: (c: AssistantV1) => Promise<unknown>): Promise<string[]> => {
      const err = await sdkRejects(call(sdkClient(tenant.serviceUrl, tenant.token, version)), 400);
      return (JSON.parse(err.body) as { errors: Array<{ path: string }> }).errors.map((e) => e.path);
    };
    const sysIntent = (c: AssistantV1) => c.createIntent({ workspaceId: id, intent: 'sys-bad' });
    const longExample = (c: AssistantV1) => c.createIntent({ workspaceId: id, intent: 'long', examples: [{ text: 'ok' }, { text: 'x'.repeat(1025) }] });
    assert.deepEqual(await paths('2018-07-10', sysIntent), ['.intent']);
    assert.deepEqual(await paths('2018-07-10', longExample), ['.examples[1].text']);
    assert.deepEqual(await paths('2018-09-20', sysIntent), ['/intent']);
    assert.deepEqual(await paths('2021-11-27', longExample), ['/examples/1/text']);
  });
});
