/**
 * Round trips against the machine's stock tools: archives made by `pg_dump -Fc` (compressed,
 * -Z0, to a file and through a pipe) are read back row for row; archives made by our writer are
 * listed by `pg_restore --list` and restored by `pg_restore -d` (from a file, in parallel, and
 * from a pipe) into fresh databases whose per-table checksums equal the source's.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { promisify } from 'node:util';
import pg from 'pg';
import {
  ArchiveWriter, copyTextFromRows, formatListing, openArchive, verifyArchive, type ArchiveInput, type CopyValue, type WriterEntry,
} from '../../src/archive/index.ts';
import { createTestDatabase, type TestDatabase } from '../support/pg.ts';
import { databaseChecksums, loadVaried } from './varied-db.ts';
import { cleanUp } from '../support/cleanup.ts';

const run = promisify(execFile);
let source: TestDatabase;
let dir: string;
const cleanup: TestDatabase[] = [];

before(async () => {
  source = await createTestDatabase('arc');
  await loadVaried(source.url);
  dir = mkdtempSync(join(tmpdir(), 'astore-arc-'));
});
after(() => cleanUp(...[source, ...cleanup].map((d) => () => d?.drop()), () => rmSync(dir, { recursive: true, force: true })));

/** Rows of every user table as the server's text output, in physical order (what COPY emits). */
async function serverRows(url: string): Promise<Map<string, CopyValue[][]>> {
  const c = new pg.Client({ connectionString: url, types: { getTypeParser: () => (v: string) => v } });
  await c.connect();
  try {
    const t = await c.query<{ s: string; t: string }>(`SELECT n.nspname AS s, c.relname AS t FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind = 'r' AND n.nspname IN ('app', 'public')`);
    const out = new Map<string, CopyValue[][]>();
    for (const { s, t: name } of t.rows) {
      const r = await c.query({ text: `SELECT * FROM ${c.escapeIdentifier(s)}.${c.escapeIdentifier(name)}`, rowMode: 'array' });
      out.set(`${s}.${name}`, r.rows as CopyValue[][]);
    }
    return out;
  } finally { await c.end(); }
}

async function archiveRows(input: ArchiveInput): Promise<Map<string, CopyValue[][]>> {
  const r = await openArchive(input);
  const out = new Map<string, CopyValue[][]>();
  for await (const block of r.blocks()) {
    if (block.kind !== 'table-data') continue;
    const rows: CopyValue[][] = [];
    for await (const batch of block.rows()) rows.push(...batch);
    out.set(`${block.entry.namespace}.${block.entry.tag}`, rows);
  }
  return out;
}

function pgDumpStream(args: string[]): Readable {
  const child = spawn('pg_dump', ['-Fc', ...args, '-d', source.url], { stdio: ['ignore', 'pipe', 'inherit'] });
  return child.stdout;
}

test('archives from stock pg_dump -Fc are read back row for row (zlib, -Z0, file and pipe)', async () => {
  const expected = await serverRows(source.url);
  assert.equal(expected.get('app.orders')!.length > 1500, true);
  for (const [label, args, piped] of [['zlib file', [], false], ['-Z0 file', ['-Z0'], false], ['zlib pipe', ['-Z6'], true], ['-Z0 pipe', ['-Z0'], true]] as const) {
    let input: ArchiveInput;
    if (piped) input = pgDumpStream([...args]);
    else {
      const file = join(dir, `pgdump-${label.replace(/\W/g, '')}.dump`);
      await run('pg_dump', ['-Fc', ...args, '-f', file, '-d', source.url]);
      input = file;
      const { stdout } = await run('pg_restore', ['--list', file]);
      const r = await openArchive(file);
      await r.close();
      // Only the creation-time line depends on how the time zone is named.
      const strip = (s: string) => s.split('\n').filter((l) => !l.startsWith('; Archive created at')).join('\n');
      assert.equal(strip(formatListing(r.header, r.entries)), strip(stdout), `listing of ${label}`);
    }
    const got = await archiveRows(input);
    assert.deepEqual([...got.keys()].sort(), [...expected.keys()].sort(), label);
    for (const [table, rows] of expected) assert.deepEqual(got.get(table), rows, `${label}: ${table}`);
  }
});

/** Re-writes an archive with our writer, re-encoding every row through the COPY codec. */
async function rewrite(input: ArchiveInput, output: string | PassThrough, level: number): Promise<void> {
  const r = await openArchive(input);
  const entries: WriterEntry[] = r.entries.map((e) => ({
    dumpId: e.dumpId, desc: e.desc, tag: e.tag ?? '', section: e.section, tableoid: e.tableoid, oid: e.oid, defn: e.defn,
    dropStmt: e.dropStmt, copyStmt: e.copyStmt, namespace: e.namespace, tablespace: e.tablespace, tableam: e.tableam,
    owner: e.owner, dependencies: e.dependencies, hasData: e.hadDumper,
  }));
  const w = await ArchiveWriter.create({ output, entries, compressionLevel: level, dbname: r.header.dbname ?? 'x', serverVersion: r.header.serverVersion ?? '15', parallelism: 2 });
  for await (const block of r.blocks()) {
    assert.equal(block.kind, 'table-data');
    const rows = (async function* () { for await (const batch of block.rows({ batchSize: 100 })) yield* batch; })();
    await w.writeTableData(block.dumpId, copyTextFromRows(rows));
  }
  await w.finish();
}

async function restoreInto(args: string[], stdin?: Readable): Promise<TestDatabase> {
  const db = await createTestDatabase('arcr');
  cleanup.push(db);
  await new Promise<void>((resolve, reject) => {
    const child = spawn('pg_restore', ['--exit-on-error', '-d', db.url, ...args], { stdio: [stdin ? 'pipe' : 'ignore', 'inherit', 'pipe'] });
    let err = '';
    child.stderr!.on('data', (b: Buffer) => { err += b.toString(); });
    if (stdin) stdin.pipe(child.stdin!);
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`pg_restore ${args.join(' ')} exited ${code}: ${err}`))));
  });
  return db;
}

test('archives written by our writer are listed and restored by stock pg_restore (file, -j2, pipe)', async () => {
  const original = join(dir, 'orig.dump');
  await run('pg_dump', ['-Fc', '-f', original, '-d', source.url]);
  const want = await databaseChecksums(source.url);

  const ours = join(dir, 'ours.dump');
  await rewrite(original, ours, 6);
  const { stdout } = await run('pg_restore', ['--list', ours]);
  assert.match(stdout, /TABLE DATA app orders/);
  assert.match(stdout, /Dump Version: 1\.14-0/);
  const report = await verifyArchive(ours);
  assert.equal(report.ok, true, JSON.stringify(report.defects));
  assert.equal(report.tables.find((t) => t.table === 'orders')!.rows, Number(want['app.orders']!.split(':')[0]));

  assert.deepEqual(await databaseChecksums((await restoreInto([ours])).url), want, 'serial restore from file');
  assert.deepEqual(await databaseChecksums((await restoreInto(['-j2', ours])).url), want, 'parallel restore');

  // Non-seekable output (no offsets), uncompressed, restored from a pipe.
  const pipe = new PassThrough();
  const restoring = restoreInto([], pipe);
  await rewrite(original, pipe, 0);
  assert.deepEqual(await databaseChecksums((await restoring).url), want, 'restore from a pipe');
});
