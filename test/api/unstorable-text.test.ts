/**
 * Text PostgreSQL cannot store: U+0000 (refused by text and jsonb alike) and an unpaired UTF-16
 * surrogate (refused by jsonb, silently turned into U+FFFD in a text column). A body holding
 * either is the caller's mistake, answered with a 400 naming the field, not a 500 or changed data;
 * a path segment holding U+0000 names nothing stored, so it is a 404. Nesting up to the limit
 * (1000 levels; test/api/bad-input.test.ts has a body over it) is stored as sent.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestStore, type TestStore } from '../support/store.ts';

describe('characters PostgreSQL cannot store', () => {
  let s: TestStore;
  let base: string;
  let headers: Record<string, string>;
  let ws: string;

  const send = (method: string, path: string, body?: string): Promise<Response> =>
    fetch(`${base}${path}${path.includes('?') ? '&' : '?'}version=2021-11-27`, {
      method, body, headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
    });

  before(async () => {
    s = await startTestStore();
    const t = await s.tenant('nora');
    base = t.serviceUrl;
    headers = { authorization: `Bearer ${t.token}` };
    const r = await send('POST', '/v1/workspaces', JSON.stringify({ name: 'w', intents: [{ intent: 'hello', examples: [{ text: 'hi' }] }] }));
    ws = ((await r.json()) as { workspace_id: string }).workspace_id;
  });
  after(async () => { await s.close(); });

  // Bodies are written as raw JSON text: JSON.stringify would escape the characters the same way.
  const cases: Array<{ name: string; path: () => string; body: string; pointer: string }> = [
    { name: 'U+0000 in an example', path: () => `/v1/workspaces/${ws}/intents/hello/examples`, body: '{"text":"a\\u0000b"}', pointer: '/text' },
    { name: 'U+0000 in an intent description', path: () => `/v1/workspaces/${ws}/intents`, body: '{"intent":"x","description":"d\\u0000"}', pointer: '/description' },
    { name: 'U+0000 in a workspace name', path: () => '/v1/workspaces', body: '{"name":"n\\u0000"}', pointer: '/name' },
    { name: 'U+0000 inside free-form metadata', path: () => '/v1/workspaces', body: '{"name":"n","metadata":{"k":["ok","a\\u0000"]}}', pointer: '/metadata/k/1' },
    { name: 'U+0000 in a metadata key', path: () => '/v1/workspaces', body: '{"name":"n","metadata":{"a\\u0000b":1}}', pointer: '/metadata/a\u0000b' },
    { name: 'an unpaired high surrogate in node output', path: () => `/v1/workspaces/${ws}/dialog_nodes`, body: '{"dialog_node":"n1","output":{"text":"a\\ud800"}}', pointer: '/output/text' },
    { name: 'an unpaired low surrogate in a counterexample', path: () => `/v1/workspaces/${ws}/counterexamples`, body: '{"text":"a\\udc00b"}', pointer: '/text' },
    { name: 'U+0000 deep in a workspace import', path: () => '/v1/workspaces', body: '{"name":"n","intents":[{"intent":"i","examples":[{"text":"ok"},{"text":"x\\u0000"}]}]}', pointer: '/intents/0/examples/1/text' },
  ];

  for (const c of cases) {
    test(`${c.name} is a 400 naming the field`, async () => {
      const before = await counts(s);
      const res = await send('POST', c.path(), c.body);
      const body = (await res.json()) as { error: string; code: number; errors?: Array<{ message: string; path: string }> };
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(body.error, 'Invalid Request Body');
      assert.equal(body.errors?.[0]?.path, c.pointer);
      assert.match(body.errors?.[0]?.message ?? '', /cannot be stored/);
      assert.deepEqual(await counts(s), before);
    });
  }

  test('a properly paired surrogate (an emoji) is stored and read back unchanged', async () => {
    const res = await send('POST', `/v1/workspaces/${ws}/counterexamples`, JSON.stringify({ text: 'coffee \u{1F600}' }));
    assert.equal(res.status, 201);
    const got = await send('GET', `/v1/workspaces/${ws}/counterexamples/${encodeURIComponent('coffee \u{1F600}')}`);
    assert.deepEqual(await got.json(), { text: 'coffee \u{1F600}' });
  });

  test('free-form metadata nested 900 levels deep is stored and read back (the limit is 1000)', async () => {
    const deep = `${'{"a":'.repeat(900)}1${'}'.repeat(900)}`;
    const res = await send('POST', '/v1/workspaces', `{"name":"deep","metadata":${deep}}`);
    assert.equal(res.status, 201);
    const id = ((await res.json()) as { workspace_id: string }).workspace_id;
    const got = (await (await send('GET', `/v1/workspaces/${id}`)).json()) as { metadata: unknown };
    assert.deepEqual(got.metadata, JSON.parse(deep));
  });

  test('U+0000 in a path segment is a 404, not a 500', async () => {
    const res = await send('GET', `/v1/workspaces/${ws}/intents/he%00llo`);
    assert.equal(res.status, 404);
    assert.deepEqual(await res.json(), { error: 'Resource not found', code: 404 });
  });
});

async function counts(s: TestStore): Promise<string> {
  const r = await s.store.pool.query<{ n: string }>(`select (select count(*) from workspaces) || '/' || (select count(*) from intents) || '/' ||
    (select count(*) from examples) || '/' || (select count(*) from counterexamples) || '/' || (select count(*) from dialog_nodes) as n`);
  return r.rows[0]!.n;
}
