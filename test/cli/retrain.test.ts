/**
 * `astore retrain-all` and `astore retrain status` as an operator runs them after a restore:
 * every model gone, the command trains them all with its own worker threads and exits 0; with no
 * worker anywhere it gives up after --timeout and exits 7 instead of waiting forever.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestStore, type TestStore } from '../support/store.ts';
import { runAstore } from '../support/cli.ts';

let s: TestStore;

const astore = (args: string[], env: NodeJS.ProcessEnv = {}) => runAstore(args, { ASTORE_HOME: s.home, DATABASE_URL: s.db.url, ...env });

before(async () => {
  s = await startTestStore();
  const t = await s.tenant('ops');
  for (const name of ['billing', 'support', 'sales']) {
    const res = await fetch(`${t.serviceUrl}/v1/workspaces?version=2021-11-27`, {
      method: 'POST', headers: { authorization: `Bearer ${t.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name, intents: [{ intent: `${name}_question`, examples: [{ text: `a question about ${name}` }] }, { intent: 'goodbye', examples: [{ text: 'bye for now' }] }] }),
    });
    assert.equal(res.status, 201);
  }
});
after(async () => { await s.close(); });

test('with no worker, retrain-all gives up after --timeout and exits 7, saying why', async () => {
  const r = await astore(['retrain-all', '--workers', '0', '--timeout', '1', '--json']);
  assert.equal(r.code, 7, r.stderr);
  assert.match(r.stderr, /no training finished in 1 s.*are training workers running\?/);
  const summary = JSON.parse(r.stdout) as { affected: number; retrained: number; complete: boolean };
  assert.deepEqual([summary.affected, summary.retrained, summary.complete], [3, 0, false]);
  const status = JSON.parse((await astore(['retrain', 'status', '--json'])).stdout) as { queued: number; done: number };
  assert.deepEqual([status.queued, status.done], [3, 0], 'the submitted jobs stay queued for a worker');
});

test('retrain-all trains every affected workspace, logs the seeds\' summary line and exits 0', async () => {
  const r = await astore(['retrain-all', '--workers', '1', '--json'], { BATCH_RETRAIN_ALL_SIZE: '2' });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /\[RETRAIN-ALL-SUMMARY\] Affected workspaces found: 3, Retrained Total: 3, Failed: 0/);
  assert.deepEqual(JSON.parse(r.stdout).retrained, 3);
  const status = JSON.parse((await astore(['retrain', 'status', '--json'])).stdout) as { affected: number; done: number; queued: number };
  assert.deepEqual([status.affected, status.done, status.queued], [0, 3, 0]);
  const again = await astore(['retrain-all', '--workers', '1', '--json']);
  assert.equal(JSON.parse(again.stdout).affected, 0, 'nothing is stale afterwards');
});
