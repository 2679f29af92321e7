/**
 * The row counter the load verifies COPY data with: the same count however the payload is cut into
 * chunks, the end marker recognised across a cut, nothing after it passed on, a cut-off last row
 * reported; an archive with two data entries for one table refused.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ArchiveWriter, copyTextFromRows, type TocEntry, type WriterEntry } from '../../src/archive/index.ts';
import { copyColumns, counted, preflightArchive, RowCounter, scanArchive } from '../../src/restore/scan.ts';

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

test('a payload without the marker, or with rows after it, is damage: restoring it would keep only the rows before the cut', async () => {
  // Found by fuzzing: a payload cut after a row, an empty one, and one with a marker in the middle
  // were restored in part and committed.
  await assert.rejects(run(cuts('x\ny\n', [1])), { code: 'ARCHIVE_COPY_DATA_INVALID', message: /has no \\\. end marker/ });
  await assert.rejects(run([]), { code: 'ARCHIVE_COPY_DATA_INVALID' });
  await assert.rejects(run(cuts('x\ny', [2])), { code: 'ARCHIVE_COPY_DATA_INVALID', message: /ends in the middle of a row/ });
  await assert.rejects(run(cuts('x\n\\.\nnot a row\n', [3, 5])), { code: 'ARCHIVE_COPY_DATA_INVALID', message: /data after its \\\. end marker/ });
  await assert.rejects(run(cuts('x\n\\.\n\nnot a row\n', [7])), { code: 'ARCHIVE_COPY_DATA_INVALID' });
  // The blank lines pg_dump and astore backup write after the marker are fine, in any chunking.
  assert.deepEqual(await run(cuts('x\n\\.\n\n\n', [2, 4])), { rows: 1, passed: 'x\n\\.\n' });
});

test('a COPY column list must be column names: SQL appended to it is refused, never run', () => {
  const entry = (copyStmt: string) => ({ desc: 'TABLE DATA', namespace: 'astore', tag: 'workspaces', copyStmt }) as unknown as TocEntry;
  assert.deepEqual(copyColumns(entry('COPY astore.workspaces (id, name, "order") FROM stdin;\n')), ['id', 'name', 'order']);
  // Found by fuzzing: the load wrote the list into its own COPY, so this renamed every workspace.
  const injected = `COPY astore.workspaces (id, name) FROM stdin; UPDATE astore.workspaces SET name='x'; CREATE TEMP TABLE t AS SELECT (1) FROM stdin;`;
  assert.throws(() => copyColumns(entry(injected)), { code: 'ARCHIVE_UNEXPECTED', message: /which is not a column name/ });
});

test('an archive with two TABLE DATA entries for one store table is refused before anything is read: both would be loaded', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'scan-dup-'));
  try {
    const file = join(dir, 'twice.dump');
    const copyStmt = 'COPY astore.schema_migrations (id) FROM stdin;\n';
    const entries: WriterEntry[] = [
      { dumpId: 1, desc: 'ENCODING', tag: 'ENCODING', section: 2, defn: "SET client_encoding = 'UTF8';\n" },
      { dumpId: 2, desc: 'TABLE', tag: 'schema_migrations', namespace: 'astore', section: 2, defn: 'CREATE TABLE astore.schema_migrations (id text);\n' },
      { dumpId: 3, desc: 'TABLE DATA', tag: 'schema_migrations', namespace: 'astore', section: 3, copyStmt, dependencies: [2], hasData: true },
      { dumpId: 4, desc: 'TABLE DATA', tag: 'schema_migrations', namespace: 'astore', section: 3, copyStmt, dependencies: [2], hasData: true },
    ];
    const w = await ArchiveWriter.create({ output: file, entries, dbname: 'd', serverVersion: '15' });
    await w.writeTableData(3, copyTextFromRows([['1.0.0']]));
    await w.writeTableData(4, copyTextFromRows([['1.0.0']]));
    await w.finish();
    for (const read of [preflightArchive, scanArchive]) {
      await assert.rejects(read(file), { code: 'ARCHIVE_INCONSISTENT', message: /two TABLE DATA entries for astore\.schema_migrations/ });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
