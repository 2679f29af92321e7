/**
 * The row counter the load verifies COPY data with: the same count however the payload is cut into
 * chunks, the end marker recognised across a cut, nothing after it passed on, a cut-off last row
 * reported.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { counted, RowCounter } from '../../src/restore/scan.ts';

async function run(chunks: Buffer[]): Promise<{ rows: number; passed: string }> {
  const counter = new RowCounter('t');
  const out: Buffer[] = [];
  for await (const b of counted((async function* () { yield* chunks; })(), counter)) out.push(b);
  return { rows: counter.finish(), passed: Buffer.concat(out).toString() };
}

const cuts = (s: string, at: number[]): Buffer[] => {
  const b = Buffer.from(s);
  const points = [0, ...at, b.length];
  return points.slice(1).map((end, i) => b.subarray(points[i]!, end));
};

test('rows are counted and the data passed on the same at every cut, the end marker included', async () => {
  const data = 'a\t1\nb\\.\t2\n\\.x\t3\n\\\\.\t4\n';
  const payload = `${data}\\.\n\n`;
  for (let i = 0; i <= payload.length; i++) {
    for (let j = i; j <= payload.length; j += 3) {
      const r = await run(cuts(payload, [i, j]));
      assert.equal(r.rows, 4, `cut at ${i}, ${j}`);
      assert.equal(r.passed, `${data}\\.\n`, `cut at ${i}, ${j}: the blank line after the marker is not passed on`);
    }
  }
});

test('a payload without the marker counts its rows; one cut inside a row is damage', async () => {
  assert.deepEqual(await run(cuts('x\ny\n', [1])), { rows: 2, passed: 'x\ny\n' });
  assert.deepEqual(await run([]), { rows: 0, passed: '' });
  await assert.rejects(run(cuts('x\ny', [2])), { code: 'ARCHIVE_COPY_DATA_INVALID' });
  // Data after the marker is neither counted nor passed on, even when it looks like rows.
  assert.deepEqual(await run(cuts('x\n\\.\nnot a row\n', [3, 5])), { rows: 1, passed: 'x\n\\.\n' });
});
