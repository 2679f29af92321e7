/**
 * A burst of requests to a workspace not yet in the cache (a restart, an edit) loads it once:
 * each request compiled the dialog and read the model itself. The dialog compile reads no
 * training data (examples can be 25,000 rows; the dialog never uses them).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type pg from 'pg';
import { Understanding } from '../../src/message/understanding.ts';
import { ALGORITHM_VERSION, enqueue } from '../../src/training/index.ts';
import { v1Request } from '../support/api.ts';
import { startTestStore, type TestStore } from '../support/store.ts';
import { trainQueued } from '../support/training.ts';

let s: TestStore;
let instanceId: string;
let id: string;
let other: string;

before(async () => {
  s = await startTestStore();
  const t = await s.tenant('cold');
  instanceId = t.instanceId;
  other = (await v1Request(t.serviceUrl, { authorization: `Bearer ${t.token}` }, 'POST', '/v1/workspaces', {
    name: 'other', intents: [{ intent: 'yes', examples: [{ text: 'yes please' }] }, { intent: 'no', examples: [{ text: 'no thanks' }] }],
  })).workspace_id as string;
  id = (await v1Request(t.serviceUrl, { authorization: `Bearer ${t.token}` }, 'POST', '/v1/workspaces', {
    name: 'cold',
    intents: [
      { intent: 'hello', examples: [{ text: 'hi there' }, { text: 'good morning' }] },
      { intent: 'bye', examples: [{ text: 'see you later' }, { text: 'goodbye' }] },
    ],
    entities: [{ entity: 'drink', values: [{ value: 'tea', synonyms: ['chai'] }] }],
    dialog_nodes: [{ dialog_node: 'greet', conditions: '#hello', output: { text: 'Hello.' } }],
  })).workspace_id as string;
  await enqueue(s.store.pool, [id, other]);
  await trainQueued(s.store.pool);
});
after(async () => { await s.close(); });

/** The store's pool, counting dedicated connections and the statements run on the pool and on them. */
function counting(): { pool: pg.Pool; connects: number; statements: string[] } {
  const seen = { connects: 0, statements: [] as string[] };
  const text = (q: unknown): string => (typeof q === 'string' ? q : (q as { text: string }).text);
  const pool = new Proxy(s.store.pool, {
    get(target, prop) {
      if (prop === 'connect') {
        return async () => {
          seen.connects++;
          const client = await target.connect();
          return new Proxy(client, {
            get(c, p) {
              if (p === 'query') return (q: unknown, ...rest: unknown[]) => { seen.statements.push(text(q)); return (c.query as (...a: unknown[]) => unknown)(q, ...rest); };
              const v = Reflect.get(c, p);
              return typeof v === 'function' ? v.bind(c) : v;
            },
          });
        };
      }
      if (prop === 'query') return (q: unknown, ...rest: unknown[]) => { seen.statements.push(text(q)); return (target.query as (...a: unknown[]) => unknown)(q, ...rest); };
      const v = Reflect.get(target, prop);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  }) as pg.Pool;
  return Object.assign(seen, { pool });
}

test('twenty concurrent cold loads compile the dialog once and read the model once', async () => {
  const u = new Understanding({ algorithmVersion: ALGORITHM_VERSION });
  const c = counting();
  const loaded = await Promise.all(Array.from({ length: 20 }, () => u.load(c.pool, instanceId, id)));
  assert.equal(c.connects, 1, 'one snapshot for the dialog');
  assert.equal(c.statements.filter((q) => /from models where/.test(q)).length, 1, 'one model read');
  assert.ok(loaded.every((w) => w.dialog === loaded[0]!.dialog && w.model === loaded[0]!.model && w.model));
  assert.equal(loaded[0]!.interpret('good morning', new Date()).intents[0]?.intent, 'hello');
  assert.deepEqual(loaded[0]!.interpret('a chai please', new Date()).entities.map((e) => e.value), ['tea']);
  assert.deepEqual(c.statements.filter((q) => /\b(examples|counterexamples|intents)\b/.test(q)), [], 'no training data read');
  // Warm: no load at all; and a failed load is not remembered.
  await u.load(c.pool, instanceId, id);
  assert.equal(c.connects, 1);
});

test('a load that fails is not shared with the next request', async () => {
  const u = new Understanding({ algorithmVersion: ALGORITHM_VERSION });
  let fail = true;
  const flaky = new Proxy(s.store.pool, {
    get(target, prop) {
      if (prop === 'connect' && fail) return () => Promise.reject(new Error('no connection'));
      const v = Reflect.get(target, prop);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  }) as pg.Pool;
  await assert.rejects(Promise.all([u.load(flaky, instanceId, id), u.load(flaky, instanceId, id)]), /no connection/);
  fail = false;
  assert.ok((await u.load(flaky, instanceId, id)).dialog);
});

test('the model cache is bounded by bytes: a second model over the bound evicts the first', async () => {
  const c = counting();
  const modelReads = (): number => c.statements.filter((q) => /from models where/.test(q)).length;
  const roomy = new Understanding({ algorithmVersion: ALGORITHM_VERSION });
  for (const ws of [id, other, id, other]) await roomy.load(c.pool, instanceId, ws);
  assert.equal(modelReads(), 2, 'both stay cached');
  const bytes = (await roomy.load(c.pool, instanceId, id)).model!.byteLength;
  assert.ok(bytes > 1000, `${bytes} bytes`);
  const tight = new Understanding({ algorithmVersion: ALGORITHM_VERSION, modelCacheBytes: bytes });
  for (const ws of [id, other, id]) await tight.load(c.pool, instanceId, ws);
  assert.equal(modelReads(), 5, 'the first model was evicted by the second and read again');
});
