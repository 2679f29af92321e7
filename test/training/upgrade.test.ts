/**
 * Models trained by another release's algorithm. After an upgrade that changes ALGORITHM_VERSION
 * every stored model is an older algorithm's, which this release cannot load: /message failed
 * with a 500 for every workspace until it was retrained; it now answers (without intents, as for
 * a workspace not yet trained) and the workspace retrains. During a rolling upgrade the older
 * pods met models of the newer algorithm, retrained them with their own and overwrote them, and
 * the newer pods retrained them again, until the last old pod was gone; a model of a newer
 * algorithm generation now counts as current to an older release, and is never overwritten by it.
 */
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createService, type Service } from '../../src/service/index.ts';
import { ALGORITHM_VERSION, SPARSE_ALGORITHM_VERSION, enqueue, findAffected } from '../../src/training/index.ts';
import { sweep } from '../../src/training/service/queue.ts';
import { MAX_READABLE_BYTEA } from '../../src/store/index.ts';
import { sdkClient, v1Request } from '../support/api.ts';
import { startTestStore, type TestStore } from '../support/store.ts';
import { trainQueued } from '../support/training.ts';

/** ALGORITHM_VERSION with its trailing generation number moved by `delta` (same length for a one-digit move). */
function generation(delta: number): string {
  const m = /^(.*\/)(\d+)$/.exec(ALGORITHM_VERSION);
  assert.ok(m, `ALGORITHM_VERSION ${ALGORITHM_VERSION} ends in /N`);
  return `${m[1]}${Number(m[2]) + delta}`;
}

describe('models of another algorithm version', () => {
  let s: TestStore;
  let svc: Service;
  let base: string;
  let token: string;
  let id: string;
  const api = (method: string, path: string, body?: unknown): Promise<any> => v1Request(base, { authorization: `Bearer ${token}` }, method, path, body);
  const status = async (): Promise<string> => (await api('GET', `/v1/workspaces/${id}`)).status;
  const topIntent = async (): Promise<string | undefined> =>
    (await sdkClient(base, token).message({ workspaceId: id, input: { text: 'good morning to you' } })).result.intents[0]?.intent;

  const trainAll = (): Promise<void> => trainQueued(s.store.pool);

  /** Rewrites the stored model as if trained by algorithm `version` (the bytes name it too). */
  async function storedAs(version: string): Promise<void> {
    const r = await s.store.pool.query<{ model: Buffer }>('select model from models where workspace_id = $1', [id]);
    const bytes = Buffer.from(r.rows[0]!.model.toString('latin1').replace(ALGORITHM_VERSION, version), 'latin1');
    await s.store.pool.query('update models set model = $2, algorithm_version = $3 where workspace_id = $1', [id, bytes, version]);
  }

  before(async () => {
    s = await startTestStore();
    // AUTO_RETRAIN off: nothing trains but the workers these tests run.
    svc = createService(s.store, { trainer: false, env: { AUTO_RETRAIN: 'false' }, debounceMs: 0 });
    const url = await svc.app.listen({ host: '127.0.0.1', port: 0 });
    const t = await s.tenant('upgrade');
    base = `${url}/instances/${t.instanceId}/api`;
    token = t.token;
    id = (await api('POST', '/v1/workspaces', { name: 'greetings', intents: [
      { intent: 'hello', examples: [{ text: 'hi there' }, { text: 'good morning' }, { text: 'hello friend' }] },
      { intent: 'bye', examples: [{ text: 'see you later' }, { text: 'goodbye now' }, { text: 'bye bye' }] },
    ] })).workspace_id;
  });
  after(async () => { await svc.close(); await s.close(); });
  beforeEach(async () => {
    // A newer algorithm's model (left by a test) would never be overwritten.
    await s.store.pool.query('delete from models where workspace_id = $1', [id]);
    await enqueue(s.store.pool, [id]);
    await trainAll();
    assert.equal(await status(), 'Available');
    assert.equal(await topIntent(), 'hello');
  });

  test('an older algorithm\'s model: /message answers without intents, and the workspace is retrained', async () => {
    await storedAs(generation(-1));
    assert.equal(await topIntent(), undefined);
    // AUTO_RETRAIN is off and nothing is queued: no usable model, and none coming (it said
    // Training, and a client polling for Available waited for ever).
    assert.equal(await status(), 'Non Existent');
    assert.deepEqual(await findAffected(s.store.pool), [id]);
    assert.equal(await sweep(s.store.pool, ALGORITHM_VERSION), 1);
    assert.equal(await status(), 'Training', 'queued (as retrain-all submits it)');
    await trainAll();
    assert.equal(await status(), 'Available');
    assert.equal(await topIntent(), 'hello');
  });

  test('a newer algorithm\'s model is current here: not swept, not affected, never overwritten', async () => {
    const newer = generation(1);
    await storedAs(newer);
    assert.equal(await status(), 'Available');
    assert.deepEqual(await findAffected(s.store.pool), []);
    assert.equal(await sweep(s.store.pool, ALGORITHM_VERSION), 0);
    // Even a training requested explicitly leaves the newer model in place.
    await enqueue(s.store.pool, [id]);
    await trainAll();
    const m = await s.store.pool.query<{ algorithm_version: string }>('select algorithm_version from models where workspace_id = $1', [id]);
    assert.equal(m.rows[0]!.algorithm_version, newer);
    // This release cannot read it: it answers as for an untrained workspace rather than failing.
    assert.equal(await topIntent(), undefined);
  });

  test('a model stored under the sparse name is this release\'s own: loaded, current, not retrained', async () => {
    // Release 1.2 matches the exact name, so it answers as for an untrained workspace instead of failing to load it.
    await s.store.pool.query('update models set algorithm_version = $2, trained_at = now() where workspace_id = $1', [id, SPARSE_ALGORITHM_VERSION]);
    assert.equal(await topIntent(), 'hello');
    assert.equal(await status(), 'Available');
    assert.deepEqual(await findAffected(s.store.pool), []);
    assert.equal(await sweep(s.store.pool, ALGORITHM_VERSION), 0);
  });

  test('a model too large to read back (release 1.2 stored dense ones): stale, answered without intents, retrained small', { timeout: 120_000 }, async () => {
    // One byte past the limit; zeros, which PostgreSQL compresses to almost nothing on disk.
    await s.store.pool.query(`update models set model = decode(repeat('00', $2::int), 'hex'), trained_at = now() where workspace_id = $1`, [id, MAX_READABLE_BYTEA + 1]);
    // Read as before, this value ended the process inside the driver.
    assert.equal(await topIntent(), undefined);
    assert.equal(await status(), 'Non Existent', 'AUTO_RETRAIN is off: no usable model, none coming');
    assert.deepEqual(await findAffected(s.store.pool), [id]);
    assert.equal(await sweep(s.store.pool, ALGORITHM_VERSION), 1);
    await trainAll();
    assert.equal(await status(), 'Available');
    assert.equal(await topIntent(), 'hello');
    const size = await s.store.pool.query<{ bytes: number }>('select octet_length(model) as bytes from models where workspace_id = $1', [id]);
    assert.ok(size.rows[0]!.bytes < 1024 * 1024, `${size.rows[0]!.bytes} bytes`);
  });
});
