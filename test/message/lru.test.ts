import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Lru } from '../../src/message/lru.ts';

test('the message caches evict the least recently used workspace', () => {
  const c = new Lru<number>(2);
  c.set('a', 1);
  c.set('b', 2);
  assert.equal(c.get('a'), 1); // a is now the most recently used
  c.set('c', 3);
  assert.equal(c.get('b'), undefined);
  assert.equal(c.get('a'), 1);
  assert.equal(c.get('c'), 3);
  c.set('a', 4);
  assert.equal(c.get('a'), 4);
});
