/**
 * Requests that name a workspace find it through the (instance_id, id) index, not by scanning
 * every workspace: with thousands of workspaces (a restored store) a scan costs about a
 * millisecond of PostgreSQL time per request. Checked with the server's own counters: after a
 * burst of requests, the workspaces table's index scans have grown and no sequential scan has read
 * its rows. Malformed and upper-case ids stay 404s.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type AssistantV1 from 'ibm-watson/assistant/v1.js';
import { createService, type Service } from '../../src/service/index.ts';
import { sdkClient } from '../support/api.ts';
import { startTestStore, type TestStore } from '../support/store.ts';

const OTHER_WORKSPACES = 3000;

describe('workspace lookups', () => {
  let s: TestStore;
  let svc: Service;
  let sdk: AssistantV1;
  let url: string;
  let tenant: { instanceId: string; token: string };
  let id: string;

  // Rows read by sequential scans, not the count of scans: a backend reports its counters when it
  // goes idle, and one that ran statements less than a second after its last report holds them
  // for up to 10 s more. On a loaded machine, scans of the still-empty table by the setup (the
  // migrations) were reported inside the measured window; they read no rows, a scan of every
  // workspace reads thousands.
  const counters = async (): Promise<{ seqRead: number; idx: number }> => {
    const r = await s.store.pool.query(`select seq_tup_read::int as "seqRead", coalesce(idx_scan, 0)::int as idx from pg_stat_user_tables where relname = 'workspaces'`);
    return r.rows[0] as { seqRead: number; idx: number };
  };

  before(async () => {
    s = await startTestStore();
    // No trainer: its periodic sweep for stale models reads every workspace by design, and would
    // count as a scan whenever it fell inside the measured window.
    svc = createService(s.store, { trainer: false, debounceMs: 20 });
    url = await svc.app.listen({ host: '127.0.0.1', port: 0 });
    const t = await s.tenant('lookups');
    tenant = t;
    sdk = sdkClient(`${url}/instances/${t.instanceId}/api`, t.token);
    id = (await sdk.createWorkspace({ name: 'target', intents: [{ intent: 'hello', examples: [{ text: 'hi' }, { text: 'hello there' }] }] })).result.workspace_id!;
    // Enough workspaces in the same instance that a scan would be the planner's worse choice.
    await s.store.pool.query(`insert into workspaces (id, instance_id, name, language)
      select gen_random_uuid(), $1, 'filler ' || g, 'en' from generate_series(1, ${OTHER_WORKSPACES}) g`, [t.instanceId]);
    await s.store.pool.query('analyze workspaces');
  });
  after(async () => { await svc.close(); await s.close(); });

  // Creating a workspace is left out: it is not a per-request lookup by id.
  test('get, list elements, message and delete use the index, never a scan of every workspace', async () => {
    await sdk.message({ workspaceId: id, input: { text: 'hi' } }); // warm: caches and prepared statements
    const gone = (await sdk.createWorkspace({ name: 'to delete' })).result.workspace_id!;
    await sleep(1500); // the counters of the setup's connections settle
    const start = await counters();
    const rounds = 10;
    for (let i = 0; i < rounds; i++) {
      await sdk.getWorkspace({ workspaceId: id });
      await sdk.listIntents({ workspaceId: id });
      await sdk.message({ workspaceId: id, input: { text: 'hello' } });
    }
    await sdk.deleteWorkspace({ workspaceId: gone });
    // Each connection reports its counters when it goes idle, within a second or so.
    let now = await counters();
    for (const deadline = Date.now() + 10_000; now.idx - start.idx < 3 * rounds && Date.now() < deadline; now = await counters()) await sleep(200);
    assert.ok(now.idx - start.idx >= 3 * rounds, `index scans grew by ${now.idx - start.idx}`);
    assert.ok(now.seqRead - start.seqRead < OTHER_WORKSPACES, `sequential scans read ${now.seqRead - start.seqRead} workspace rows: a request scanned the workspaces table`);
  });

  test('malformed and upper-case workspace ids are 404s', async () => {
    const base = `${url}/instances/${tenant.instanceId}/api`;
    for (const bad of ['not-a-uuid', id.toUpperCase(), `${id}x`, "'; drop table workspaces; --"]) {
      for (const [method, path] of [['GET', ''], ['GET', '/intents'], ['POST', '/message'], ['DELETE', '']] as const) {
        const r = await fetch(`${base}/v1/workspaces/${encodeURIComponent(bad)}${path}?version=2021-11-27`, {
          method, headers: { authorization: `Bearer ${tenant.token}`, ...(method === 'POST' ? { 'content-type': 'application/json' } : {}) },
          ...(method === 'POST' ? { body: JSON.stringify({ input: { text: 'hi' } }) } : {}),
        });
        assert.equal(r.status, 404, `${method} ${path} for ${bad}: ${await r.text()}`);
      }
    }
    assert.equal((await sdk.getWorkspace({ workspaceId: id })).status, 200, 'the real one is still there');
  });
});
