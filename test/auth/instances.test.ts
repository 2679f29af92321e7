/**
 * Instance names: a blank one, a long one and one with a control character are refused with what
 * was wrong and a hint (control characters were stored and printed raw; a name of spaces was told
 * it was not 1-256 characters long).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createInstance } from '../../src/auth/index.ts';
import { startTestStore, type TestStore } from '../support/store.ts';

let s: TestStore;
before(async () => { s = await startTestStore(); });
after(async () => { await s.close(); });

test('an instance name must be 1-256 characters, not blank, without control characters', async () => {
  const cases: Array<[string, RegExp]> = [
    ['   ', /is blank/],
    ['x'.repeat(257), /is 257 characters long/],
    ['ab\u0001', /holds a control character/],
    ['line\nbreak', /holds a control character/],
  ];
  for (const [name, why] of cases) {
    await assert.rejects(createInstance(s.store.pool, name, 'owner'), (e: { code?: string; message?: string; hint?: string }) => {
      assert.equal(e.code, 'INSTANCE_NAME_INVALID');
      assert.match(e.message!, why);
      assert.match(e.hint ?? '', /without control characters/);
      return true;
    });
  }
  const ok = await createInstance(s.store.pool, 'Kundendienst – Ünïcode ✓', 'owner');
  assert.equal(ok.name, 'Kundendienst – Ünïcode ✓');
});
