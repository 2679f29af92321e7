/**
 * `astore instances delete`: an instance that holds workspaces is refused unless the operator
 * says --delete-workspaces (a mistyped id must never take skills along), and then everything of
 * it goes, while the owner's other instance and token keep working.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { runAstore } from '../support/cli.ts';
import { startTestStore, type TestStore } from '../support/store.ts';

let s: TestStore;
let env: NodeJS.ProcessEnv;
before(async () => { s = await startTestStore(); env = { DATABASE_URL: s.db.url, ASTORE_HOME: s.home }; });
after(async () => { await s.close(); });

const V = 'version=2021-11-27';
async function call(serviceUrl: string, token: string, path: string, init: RequestInit = {}): Promise<{ status: number; body: any }> {
  const r = await fetch(`${serviceUrl}/v1${path}${path.includes('?') ? '&' : '?'}${V}`, {
    ...init, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
  });
  return { status: r.status, body: await r.json() };
}

test('deleting an instance that holds workspaces needs --delete-workspaces; then it and they are gone', async () => {
  const a = await s.tenant('carol', 'first');
  const b = await s.tenant('carol', 'second');
  const created = await call(a.serviceUrl, a.token, '/workspaces', {
    method: 'POST', body: JSON.stringify({ name: 'kept', intents: [{ intent: 'hi', examples: [{ text: 'hello' }] }] }),
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const wid = created.body.workspace_id as string;

  const refused = await runAstore(['instances', 'delete', a.instanceId], env);
  assert.equal(refused.code, 2, refused.output);
  assert.match(refused.stderr, /error \[INSTANCE_NOT_EMPTY\]: instance .* \(first\) holds 1 workspace\(s\); nothing was deleted/);
  assert.match(refused.stderr, /astore backup -o FILE.*--delete-workspaces/);
  assert.equal((await call(a.serviceUrl, a.token, `/workspaces/${wid}`)).status, 200, 'the workspace is untouched');

  const done = await runAstore(['instances', 'delete', a.instanceId, '--delete-workspaces', '--json'], env);
  assert.equal(done.code, 0, done.output);
  assert.deepEqual(JSON.parse(done.stdout), { id: a.instanceId, name: 'first', owner: 'carol', workspaces: 1 });
  const gone = await s.store.pool.query('select (select count(*) from workspaces where id = $1)::int as w, (select count(*) from instances where id = $2)::int as i', [wid, a.instanceId]);
  assert.deepEqual(gone.rows[0], { w: 0, i: 0 });
  assert.notEqual((await call(a.serviceUrl, a.token, '/workspaces')).status, 200, 'the deleted instance no longer answers');
  assert.equal((await call(b.serviceUrl, b.token, '/workspaces')).status, 200, 'the owner\'s other instance and token still work');

  const list = await runAstore(['instances', 'list', '--json'], env);
  assert.deepEqual(JSON.parse(list.stdout).map((i: { id: string }) => i.id), [b.instanceId]);
});

test('an empty instance is deleted without the flag; an unknown or malformed id is refused with exit 2', async () => {
  const c = await s.tenant('dave', 'empty');
  const r = await runAstore(['instances', 'delete', c.instanceId], env);
  assert.equal(r.code, 0, r.output);
  assert.match(r.stderr, /deleted instance .* \(empty, owner dave\) with 0 workspace\(s\)/);
  const again = await runAstore(['instances', 'delete', c.instanceId], env);
  assert.equal(again.code, 2, again.output);
  assert.match(again.stderr, /error \[INSTANCE_NOT_FOUND\]: no instance with id/);
  const bad = await runAstore(['instances', 'delete', 'not-an-id', '--json'], env);
  assert.equal(bad.code, 2, bad.output);
  assert.equal(JSON.parse(bad.stdout).error.code, 'INSTANCE_NOT_FOUND');
});
