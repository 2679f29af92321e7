/**
 * The inflate pipeline keeps memory flat with a slow consumer: zlib stops after a few output
 * buffers, even when one input batch inflates to far more (data that compresses ~1000:1).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { deflateSync } from 'node:zlib';
import { inflateChunks } from '../../src/archive/inflate.ts';

test('a consumer that stops reading holds a few MiB of output, not the whole block', async () => {
  const size = 128 << 20;
  const compressed = deflateSync(Buffer.alloc(size));
  async function* raw() { for (let i = 0; i < compressed.length; i += 4096) yield compressed.subarray(i, i + 4096); }
  const chunks = inflateChunks(raw(), 'test block', 0);
  const first = await chunks.next();
  assert.ok(!first.done && first.value.length > 0);
  const before = process.memoryUsage().arrayBuffers;
  await sleep(500); // unbounded, zlib would inflate all 128 MiB meanwhile
  const grown = process.memoryUsage().arrayBuffers - before;
  assert.ok(grown < 32 << 20, `output held while the consumer waits: ${(grown / 1048576).toFixed(1)} MiB`);
  let total = first.value.length;
  for await (const b of chunks) total += b.length;
  assert.equal(total, size);
});
