import { test } from 'node:test';
import assert from 'node:assert/strict';
import { uuid7 } from '../../src/logs/index.ts';

test('uuid7: version 7, RFC variant, ordered by time, unique within a millisecond', () => {
  const ids = [uuid7(1_700_000_000_000), uuid7(1_700_000_000_001), uuid7(1_800_000_000_000)];
  for (const id of ids) assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.deepEqual([...ids].sort(), ids);
  assert.equal(ids[0]!.slice(0, 13), '018bcfe5-6800');
  const same = new Set(Array.from({ length: 1000 }, () => uuid7(1_700_000_000_000)));
  assert.equal(same.size, 1000);
});
