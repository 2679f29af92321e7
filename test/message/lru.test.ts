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

test('a weighed cache also evicts the least recently used until the total weight fits, keeping the newest', () => {
  const c = new Lru<number>(10, 100, (v) => v);
  c.set('a', 40);
  c.set('b', 40);
  assert.equal(c.get('a'), 40);
  c.set('c', 30); // 110 > 100: b, the least recently used, goes
  assert.equal(c.get('b'), undefined);
  assert.equal(c.weight, 70);
  c.set('a', 10); // replacing an entry replaces its weight
  assert.equal(c.weight, 40);
  c.set('huge', 500); // over the limit alone: kept (it is in use), everything else goes
  assert.equal(c.get('huge'), 500);
  assert.equal(c.get('a'), undefined);
  assert.equal(c.get('c'), undefined);
  assert.equal(c.weight, 500);
  c.set('d', 1);
  assert.equal(c.get('huge'), undefined);
  assert.equal(c.weight, 1);
});
