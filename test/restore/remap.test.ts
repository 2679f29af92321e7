/**
 * Only the workspaces' instance column is remapped. pgmig used to replace a source instance id
 * byte for byte anywhere in the COPY text, so an id a user had written into an example, a
 * description, a node's output or a webhook URL came back as another instance's id. A restore
 * into the same store with two instances swapped (a→b, b→a) must move each workspace once and
 * leave every text as written.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { restore } from '../../src/restore/index.ts';
import { startTestStore, type TestStore } from '../support/store.ts';
import { writeMapping, writeRc } from './helpers.ts';
import { cleanUp } from '../support/cleanup.ts';

const VERSION = '2021-06-14';

describe('pgmig: instance ids are remapped in the workspaces column only', () => {
  let dir: string;
  let s: TestStore;
  let x: { instanceId: string; token: string; serviceUrl: string };
  let y: { instanceId: string; token: string; serviceUrl: string };

  const skill = (name: string, other: string) => ({
    name,
    description: `copied from instance ${other}`,
    intents: [{ intent: 'ids', examples: [{ text: `what is instance ${other}` }, { text: `show ${other.toUpperCase()} please` }] }],
    dialog_nodes: [{ dialog_node: 'n', conditions: '#ids', output: { text: `the other instance is ${other}` } }],
    webhooks: [{ name: 'main_webhook', url: `https://example.com/instances/${other}/hook`, headers: [] }],
  });

  const exported = async (t: { serviceUrl: string; token: string }): Promise<unknown[]> => {
    const r = await fetch(`${t.serviceUrl}/v1/workspaces?version=${VERSION}`, { headers: { authorization: `Bearer ${t.token}` } });
    const list = (await r.json()) as { workspaces: Array<{ workspace_id: string }> };
    return Promise.all(list.workspaces.map(async (w) => {
      const e = await fetch(`${t.serviceUrl}/v1/workspaces/${w.workspace_id}?version=${VERSION}&export=true`, { headers: { authorization: `Bearer ${t.token}` } });
      const body = (await e.json()) as Record<string, unknown>;
      delete body.status;
      delete body.updated;
      return body;
    }));
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pgmig-remap-'));
    s = await startTestStore();
    x = await s.tenant('alice', 'x');
    y = await s.tenant('alice', 'y');
    for (const [t, other] of [[x, y.instanceId], [y, x.instanceId]] as const) {
      const r = await fetch(`${t.serviceUrl}/v1/workspaces?version=${VERSION}`, {
        method: 'POST', headers: { authorization: `Bearer ${t.token}`, 'content-type': 'application/json' }, body: JSON.stringify(skill(`in ${t.instanceId}`, other)),
      });
      assert.equal(r.status, 201, await r.text());
    }
  });
  after(() => cleanUp(() => s?.close(), () => rmSync(dir, { recursive: true, force: true })));

  test('x→y and y→x: each workspace moves once, and every text keeps the ids it was written with', async () => {
    const inX = await exported(x);
    const inY = await exported(y);
    assert.equal(inX.length, 1);
    assert.equal(inY.length, 1);
    const archive = join(dir, 'a.dump');
    execFileSync('/usr/bin/pg_dump', ['-Fc', '-f', archive, '-d', s.db.url], { stdio: ['ignore', 'ignore', 'inherit'] });
    await restore({
      source: archive, resourceController: writeRc(dir, s.url, [x.token]),
      mapping: writeMapping(dir, { [x.instanceId]: y.instanceId, [y.instanceId]: x.instanceId }),
      force: true, interactive: false, cwd: dir, env: { DATABASE_URL: s.db.url, ASTORE_HOME: s.home },
    });
    assert.deepEqual(await exported(y), inX, "x's workspace is now y's, unchanged");
    assert.deepEqual(await exported(x), inY, "y's workspace is now x's, unchanged");
  });
});
