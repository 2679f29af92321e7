/**
 * Parallel deflate: whatever the input's chunking and piece size, the pieces join into one zlib
 * stream that inflates to the input with a correct Adler-32 (inflateSync checks it), and buffers
 * from a pool go back to it only once compressed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { inflateSync } from 'node:zlib';
import { BufferPool } from '../../src/archive/index.ts';
import { deflateParallel } from '../../src/archive/deflate.ts';

/** Text-like data with repeats (so matches reach back across piece boundaries) and some noise. */
function sample(size: number): Buffer {
  const words = Array.from({ length: 200 }, (_, i) => `w${i}${randomBytes(3).toString('hex')}`);
  let s = '';
  for (let i = 0; s.length < size; i++) s += `${i}\t${words[(i * 7919) % words.length]}\t${words[i % 13]}\n`;
  return Buffer.from(s.slice(0, size));
}

async function collect(it: AsyncIterable<Buffer>): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const b of it) out.push(b);
  return Buffer.concat(out);
}

async function* chunked(data: Buffer, sizes: number[]): AsyncGenerator<Buffer> {
  for (let at = 0, k = 0; at < data.length; k++) {
    const n = sizes[k % sizes.length]!;
    yield data.subarray(at, at + n);
    at += n;
  }
}

test('pieces of every size join into one valid zlib stream', async () => {
  const data = sample(700_000);
  for (const pieceSize of [1000, 40_000, 65_536, 1 << 20]) {
    for (const sizes of [[1], [333, 17_000], [pieceSize], [pieceSize * 3]]) {
      if (sizes[0] === 1 && pieceSize > 1000) continue; // byte-sized input once is enough
      const input = sizes[0] === 1 ? data.subarray(0, 50_000) : data;
      for (const level of [1, 6, 9]) {
        const z = await collect(deflateParallel(chunked(input, sizes), { level, pieceSize, parallelism: 3 }));
        assert.ok(inflateSync(z).equals(input), `pieceSize ${pieceSize}, chunks ${sizes}, level ${level}`);
      }
    }
  }
});

test('empty input is a valid empty zlib stream', async () => {
  const z = await collect(deflateParallel(chunked(Buffer.alloc(0), [1]), { level: 6 }));
  assert.equal(inflateSync(z).length, 0);
});

test('pool buffers handed to the compressor come back only after their piece is compressed', async () => {
  const pool = new BufferPool(64 * 1024, 4);
  const data = sample(2_000_000);
  const handed: Buffer[] = [];
  // A producer in the manner of CopyOut: fills pool pieces, yields them, never touches them again.
  async function* producer(): AsyncGenerator<Buffer> {
    for (let at = 0; at < data.length; at += pool.size) {
      const piece = pool.take();
      const n = data.copy(piece, 0, at, at + pool.size);
      handed.push(piece);
      yield n === pool.size ? piece : piece.subarray(0, n);
    }
  }
  const z = await collect(deflateParallel(producer(), { level: 6, pool, parallelism: 3 }));
  assert.ok(inflateSync(z).equals(data), 'reused buffers must not have been overwritten while compressing');
  const distinct = new Set(handed.map((b) => b.buffer)).size;
  assert.ok(distinct < handed.length / 4, `pieces were reused (${distinct} buffers for ${handed.length} pieces)`);
});

test('a pool ignores buffers it did not issue and keeps a bounded number', () => {
  const pool = new BufferPool(1024, 2);
  const foreign = Buffer.allocUnsafeSlow(1024);
  pool.give(foreign);
  assert.notEqual(pool.take().buffer, foreign.buffer);
  const issued = [pool.take(), pool.take(), pool.take(), pool.take()];
  for (const b of issued) pool.give(b.subarray(10, 20));
  pool.give(issued[0]!); // given twice: kept once
  const again = new Set([pool.take().buffer, pool.take().buffer, pool.take().buffer]);
  assert.equal(again.size, 3);
  assert.equal([...again].filter((ab) => issued.some((b) => b.buffer === ab)).length, 2);
});

test('the output checksum covers exactly the input (a flipped input byte changes it)', async () => {
  const data = sample(300_000);
  const a = await collect(deflateParallel(chunked(data, [50_000]), { level: 6, pieceSize: 65_536 }));
  const flipped = Buffer.from(data);
  flipped[200_000] = flipped[200_000]! ^ 1;
  const b = await collect(deflateParallel(chunked(flipped, [50_000]), { level: 6, pieceSize: 65_536 }));
  assert.notEqual(createHash('sha1').update(a.subarray(-4)).digest('hex'), createHash('sha1').update(b.subarray(-4)).digest('hex'));
});
