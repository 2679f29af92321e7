/**
 * Training end to end on a real store: changes train workspaces to Available, /message answers
 * the fixtures' own examples and follows a dialog, retrain-all restores deleted models and logs
 * the seeds' summary line, and a worker killed mid-job loses nothing.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createService, type Service } from '../../src/service/index.ts';
import { enqueue, retrainAll, retrainStatus, Trainer } from '../../src/training/index.ts';
import { ownSkills, sharedSkills, type Skill } from '../support/skills.ts';
import { v1Request } from '../support/api.ts';
import { startTestStore, type TestStore } from '../support/store.ts';

async function waitFor(check: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('training service', () => {
  let s: TestStore;
  let svc: Service;
  let base: string;
  let auth: Record<string, string>;
  const skills: Array<{ name: string; id: string; skill: Skill }> = [];

  const api = (method: string, path: string, body?: unknown): Promise<any> => v1Request(base, auth, method, path, body);
  const statuses = async (): Promise<string[]> => (await api('GET', '/v1/workspaces?page_limit=1000')).workspaces.map((w: any) => w.status);

  before(async () => {
    s = await startTestStore();
    svc = createService(s.store, { trainer: { concurrency: 2, pollMs: 50 }, debounceMs: 50 });
    const url = await svc.app.listen({ host: '127.0.0.1', port: 0 });
    const t = await s.tenant('trainer');
    base = `${url}/instances/${t.instanceId}/api`;
    auth = { authorization: `Bearer ${t.token}` };
    const shared = (sharedSkills() ?? []).filter((x) => /customer-care|pizzeria|car-dashboard|complex-dialog/.test(x.name));
    for (const { name, skill } of [...ownSkills(), ...shared]) {
      const { workspace_id: id } = await api('POST', '/v1/workspaces', { ...skill, workspace_id: undefined, status: undefined });
      skills.push({ name, id, skill });
    }
  });
  after(async () => { await svc.close(); await s.close(); });

  const quiet = async (): Promise<void> => {
    await svc.trainer!.stop(); // the remaining tests run their own workers
    await s.store.pool.query('delete from training_jobs');
  };

  test('new workspaces are trained to Available', async () => {
    assert.ok((await statuses()).includes('Training') || (await statuses()).every((x) => x === 'Available'));
    await waitFor(async () => (await statuses()).every((x) => x === 'Available'), 60_000, 'all workspaces Available');
  });

  test("/message answers each skill's own examples with the right top intent (>= 95%)", async () => {
    for (const { name, id, skill } of skills) {
      let total = 0;
      let right = 0;
      for (const intent of skill.intents ?? []) {
        for (const ex of intent.examples ?? []) {
          const r = await api('POST', `/v1/workspaces/${id}/message`, { input: { text: ex.text } });
          total++;
          if (r.intents[0]?.intent === intent.intent) right++;
        }
      }
      assert.ok(total > 0);
      assert.ok(right / total >= 0.95, `${name}: ${right}/${total} examples answered with their intent`);
    }
  });

  test('a dialog skill follows its dialog through a short conversation', async () => {
    const coffee = skills.find((x) => x.name === 'coffee-shop.json')!;
    const say = async (text: string, context?: unknown): Promise<any> =>
      api('POST', `/v1/workspaces/${coffee.id}/message`, { input: { text }, ...(context ? { context } : {}) });
    const texts = (r: any): string[] => r.output.generic.filter((g: any) => g.response_type === 'text').map((g: any) => g.text);
    const welcome = await api('POST', `/v1/workspaces/${coffee.id}/message`, {});
    assert.deepEqual(texts(welcome), ['Welcome to the coffee shop!']);
    const hours = await say('what are your opening hours', welcome.context);
    assert.deepEqual(texts(hours), ['We are open 7am to 7pm every day.']);
    const order = await say('I would like to order a latte', hours.context);
    assert.equal(order.intents[0].intent, 'order_drink');
    assert.deepEqual(order.entities.map((e: any) => [e.entity, e.value]), [['drink', 'latte']]);
    assert.deepEqual(texts(order), ['What size?']);
    const done = await say('a large one', order.context);
    assert.deepEqual(texts(done), ['One large latte coming up.']);
    assert.equal(done.context.conversation_id, welcome.context.conversation_id);
  });

  test('a change retrains; retrain-all restores deleted models and logs the summary', async () => {
    const coffee = skills.find((x) => x.name === 'coffee-shop.json')!;
    const version = async (): Promise<number> => Number((await s.store.pool.query<{ v: string }>(
      'select m.trained_version as v from models m where m.workspace_id = $1', [coffee.id])).rows[0]?.v ?? 0);
    const before = await version();
    await api('POST', `/v1/workspaces/${coffee.id}/intents`, { intent: 'wifi', examples: [{ text: 'what is the wifi password' }, { text: 'do you have wifi' }] });
    await waitFor(async () => (await api('GET', `/v1/workspaces/${coffee.id}`)).status === 'Available' && (await version()) > before, 30_000, 'retrain after change');
    assert.equal((await api('POST', `/v1/workspaces/${coffee.id}/message`, { input: { text: 'what is the wifi password please' } })).intents[0].intent, 'wifi');

    await quiet();
    await s.store.pool.query('delete from models');
    assert.equal((await retrainStatus(s.store.pool)).done, 0);
    const lines: string[] = [];
    const worker = new Trainer(s.store.pool, { concurrency: 2, pollMs: 50, sweepMs: 0 });
    worker.start();
    const summary = await retrainAll(s.store.pool, { batchSize: 2, waitBetweenBatchesS: 0, waitBetweenTrainingsS: 0, log: (l) => lines.push(l), timeoutS: 120 });
    await worker.stop();
    assert.equal(summary.affected, skills.length);
    assert.equal(summary.retrained, summary.affected);
    assert.ok(lines.some((l) => l.includes(`[RETRAIN-ALL-SUMMARY] Affected workspaces found: ${summary.affected}`) && l.includes(`Retrained Total: ${summary.affected}`)), lines.join('\n'));
    assert.ok((await statuses()).every((x) => x === 'Available'));
    const again = await retrainAll(s.store.pool, { batchSize: 10, waitBetweenBatchesS: 0, waitBetweenTrainingsS: 0, log: () => {} });
    assert.equal(again.affected, 0, 'nothing is stale after retrain-all');
  });

  test('a worker killed with SIGKILL mid-job: another worker retries the job and completes it', { timeout: 120_000 }, async (t) => {
    // A workspace that takes a couple of seconds to train, so the kill lands mid-job: 60 intents
    // × 30 examples of made-up words (no digits: they all normalise to "0", and a workspace of
    // identical examples would train for minutes, not seconds).
    let seed = 42;
    const next = (n: number) => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return Math.floor((seed / 2 ** 32) * n); };
    const syllables = ['ka', 'lo', 'mi', 'ren', 'tu', 'sa', 'vo', 'pel', 'dri', 'nax', 'qua', 'fe', 'zu', 'bor', 'gli', 'hem'];
    const vocabulary = Array.from({ length: 3000 }, () => Array.from({ length: 2 + next(3) }, () => syllables[next(syllables.length)]).join(''));
    const intents = Array.from({ length: 60 }, (_, i) => ({
      intent: `topic_${i}`,
      examples: Array.from({ length: 30 }, () => ({ text: Array.from({ length: 10 }, () => vocabulary[next(vocabulary.length)]).join(' ') })),
    }));
    await quiet();
    const { workspace_id: id } = await api('POST', '/v1/workspaces', { name: 'big', intents });
    await s.store.pool.query('delete from training_jobs');
    await enqueue(s.store.pool, [id]);
    const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'fixtures', 'worker-child.ts')], {
      env: { ...process.env, DATABASE_URL: s.db.url, LEASE_MS: '1500' }, stdio: ['ignore', 'pipe', 'inherit'],
    });
    // The worker runs until killed: if it never says "claimed", the test times out and the worker
    // would go on polling, its pipe keeping this file's process from ending.
    t.after(() => { child.kill('SIGKILL'); });
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => { if (d.toString().includes('claimed')) resolve(); });
      child.on('exit', (code) => reject(new Error(`worker exited early (${code})`)));
    });
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const orphan = await s.store.pool.query<{ locked_by: string }>('select locked_by from training_jobs where workspace_id = $1', [id]);
    assert.ok(orphan.rows[0]?.locked_by, 'the killed worker held the job');
    const done: string[] = [];
    const rescuer = new Trainer(s.store.pool, { concurrency: 1, leaseMs: 1500, pollMs: 50, sweepMs: 0, onTrained: (w, ok) => { if (ok) done.push(w); } });
    rescuer.start();
    await waitFor(async () => done.includes(id), 90_000, 'the rescued job to complete');
    await rescuer.stop();
    assert.equal((await api('GET', `/v1/workspaces/${id}`)).status, 'Available');
    assert.equal((await s.store.pool.query('select 1 from training_jobs where workspace_id = $1', [id])).rowCount, 0);
  });
});
