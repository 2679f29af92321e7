import { test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { createTestDatabase } from '../support/pg.ts';

test('the test harness gives a real PostgreSQL database', async () => {
  const db = await createTestDatabase();
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  const r = await client.query<{ v: string }>('select current_setting($$server_version$$) as v');
  await client.end();
  await db.drop();
  assert.match(r.rows[0]!.v, /^15\./);
});
