/**
 * Damaged archives: cut at every TOC and block boundary (and at sampled byte positions), with
 * bytes flipped, and with a wrong magic. Every read must end — within a time limit — either
 * successfully (a flip inside a string can leave a valid archive) or with an AppError whose
 * message names the offset; never a hang, a non-AppError crash or silently missing data.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { ArchiveWriter, copyTextFromRows, openArchive, verifyArchive, type WriterEntry } from '../../src/archive/index.ts';
import { isAppError } from '../../src/errors/index.ts';
import { deflateSync } from 'node:zlib';
import { inflateChunks } from '../../src/archive/inflate.ts';

/** A self-made archive: special entries, a schema, two tables (one multi-chunk) and a BLOBS block. */
async function fixture(level: number): Promise<Buffer> {
  const entries: WriterEntry[] = [
    { dumpId: 1, desc: 'ENCODING', tag: 'ENCODING', section: 2, defn: "SET client_encoding = 'UTF8';\n" },
    { dumpId: 2, desc: 'STDSTRINGS', tag: 'STDSTRINGS', section: 2, defn: "SET standard_conforming_strings = 'on';\n" },
    { dumpId: 3, desc: 'SCHEMA', tag: 's', section: 2, defn: 'CREATE SCHEMA s;\n', dropStmt: 'DROP SCHEMA s;\n', owner: 'postgres' },
    { dumpId: 4, desc: 'TABLE', tag: 'a', namespace: 's', section: 2, defn: 'CREATE TABLE s.a (x int, y text);\n', dependencies: [3] },
    { dumpId: 5, desc: 'TABLE', tag: 'b', namespace: 's', section: 2, defn: 'CREATE TABLE s.b (z text);\n', dependencies: [3] },
    { dumpId: 6, desc: 'BLOB', tag: '77', section: 2, tableoid: '2613', oid: '77', defn: "SELECT pg_catalog.lo_create('77');\n" },
    { dumpId: 7, desc: 'TABLE DATA', tag: 'a', namespace: 's', section: 3, copyStmt: 'COPY s.a (x, y) FROM stdin;\n', dependencies: [4], hasData: true },
    { dumpId: 8, desc: 'TABLE DATA', tag: 'b', namespace: 's', section: 3, copyStmt: 'COPY s.b (z) FROM stdin;\n', dependencies: [5], hasData: true },
    { dumpId: 9, desc: 'BLOBS', tag: 'BLOBS', section: 3, hasData: true },
  ];
  const chunks: Buffer[] = [];
  const sink = new (await import('node:stream')).PassThrough();
  sink.on('data', (b: Buffer) => chunks.push(b));
  const w = await ArchiveWriter.create({ output: sink, entries, compressionLevel: level, dbname: 'd', serverVersion: '15' });
  await w.writeTableData(7, copyTextFromRows([['1', 'a\tb'], [null, 'ü']]));
  await w.writeTableData(8, copyTextFromRows(Array.from({ length: 120 }, (_, i) => [`row ${i} ${"x".repeat(i % 50)}`])));
  await w.writeBlobs(9, (async function* () {
    yield { oid: 77, data: Readable.from([Buffer.from('hello')]) };
    yield { oid: 3000000000, data: Readable.from([]) };
  })());
  await w.finish();
  return Buffer.concat(chunks);
}

/** Reads the whole archive (every block, every large object). */
async function readAll(bytes: Buffer): Promise<void> {
  const r = await openArchive(Readable.from([bytes]));
  for await (const block of r.blocks()) {
    if (block.kind === 'table-data') { for await (const batch of block.rows()) void batch; }
    else for await (const lo of block.largeObjects()) for await (const b of lo.data()) void b;
  }
}

async function outcome(bytes: Buffer): Promise<'ok' | { code: string; message: string; hint?: string | undefined }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error('read did not finish within 5 s (hang)')), 5000); });
  try {
    await Promise.race([readAll(bytes), timeout]);
    return 'ok';
  } catch (err) {
    assert.ok(isAppError(err), `expected an AppError, got ${(err as Error).stack}`);
    return { code: err.code, message: err.message, hint: err.hint };
  } finally {
    clearTimeout(timer);
  }
}

async function boundaries(bytes: Buffer): Promise<number[]> {
  const r = await openArchive(Readable.from([bytes]));
  const cuts = new Set<number>([0, 1, 4, 5, 8, 11, r.dataStart]);
  for (const e of r.entries) { cuts.add(e.tocOffset); cuts.add(e.tocOffset + 5); }
  for await (const block of r.blocks()) { cuts.add(block.offset); cuts.add(block.offset + 1); cuts.add(block.offset + 6); }
  return [...cuts].filter((c) => c < bytes.length).sort((a, b) => a - b);
}

for (const level of [0, 6]) {
  test(`archive cut at every TOC/block boundary and every 7th byte fails with ARCHIVE_TRUNCATED naming the offset (level ${level})`, async () => {
    const bytes = await fixture(level);
    assert.equal(await outcome(bytes), 'ok');
    const cuts = new Set(await boundaries(bytes));
    for (let i = 0; i < bytes.length; i += 7) cuts.add(i);
    for (const cut of [...cuts].sort((a, b) => a - b)) {
      const o = await outcome(bytes.subarray(0, cut));
      assert.notEqual(o, 'ok', `cut at ${cut} of ${bytes.length} was accepted`);
      if (o === 'ok') continue;
      assert.ok(['ARCHIVE_TRUNCATED', 'ARCHIVE_EMPTY', 'ARCHIVE_CORRUPT'].includes(o.code), `cut at ${cut}: ${o.code} ${o.message}`);
      assert.match(o.message, /offset \d+/, `cut at ${cut}: message names no offset: ${o.message}`);
      if (o.code === 'ARCHIVE_TRUNCATED') assert.match(o.message, /expected /);
    }
  });

  test(`archive with flipped bytes never hangs or crashes (level ${level})`, async () => {
    const bytes = await fixture(level);
    let rejected = 0;
    for (let i = 0; i < bytes.length; i += level === 0 ? 5 : 3) {
      const damaged = Buffer.from(bytes);
      damaged[i] = damaged[i]! ^ 0xff;
      const o = await outcome(damaged);
      if (o !== 'ok') {
        rejected++;
        assert.match(o.message, /offset \d+|archive version|format|magic/, `flip at ${i}: ${o.message}`);
      }
    }
    assert.ok(rejected > 0);
  });
}

test('wrong magic, other formats and unsupported versions are named', async () => {
  const bytes = await fixture(6);
  const sql = await outcome(Buffer.from('--\n-- PostgreSQL database dump\n'));
  assert.ok(sql !== 'ok' && sql.code === 'ARCHIVE_BAD_MAGIC' && /plain SQL/.test(sql.message) && /offset 0/.test(sql.message));
  const tar = Buffer.from(bytes); tar[10] = 3;
  const t = await outcome(tar);
  assert.ok(t !== 'ok' && t.code === 'ARCHIVE_WRONG_FORMAT' && /tar/.test(t.message));
  const v = Buffer.from(bytes); v[6] = 17;
  const vv = await outcome(v);
  assert.ok(vv !== 'ok' && vv.code === 'ARCHIVE_UNSUPPORTED_VERSION' && /1\.17/.test(vv.message));
  const empty = await outcome(Buffer.alloc(0));
  assert.ok(empty !== 'ok' && empty.code === 'ARCHIVE_EMPTY');
  assert.match(empty.hint ?? '', /use another one/, 'an empty archive says what to do');
});

test('verify reports trailing bytes after a zlib stream and lz4 archives by codec', async () => {
  const bytes = await fixture(6);
  const report = await verifyArchive(Readable.from([bytes]));
  assert.equal(report.ok, true, JSON.stringify(report.defects));
  assert.deepEqual(report.tables.map((t) => t.rows), [2, 120]);
  assert.deepEqual(report.largeObjects, { count: 2, bytes: 5 });

  // Header of a 1.15 archive claiming lz4: rebuild the fixed part of the header in place.
  const lz4 = Buffer.concat([bytes.subarray(0, 6), Buffer.from([15]), bytes.subarray(7, 11), Buffer.from([2]), bytes.subarray(16)]);
  const r = await verifyArchive(Readable.from([lz4]));
  assert.equal(r.ok, false);
  assert.match(r.defects[0]!.message, /lz4/);
  assert.equal(r.defects[0]!.code, 'ARCHIVE_COMPRESSION_UNSUPPORTED');

  // One zlib stream followed by stray bytes (pg_restore 15 loops forever on this).
  const stream = Buffer.concat([deflateSync(Buffer.from('1\\tx\n\\.\n')), Buffer.from('junk')]);
  const chunks = (async function* () { yield stream; })();
  await assert.rejects(async () => { for await (const b of inflateChunks(chunks, 'test block', 42)) void b; },
    (e: unknown) => isAppError(e) && e.code === 'ARCHIVE_CORRUPT' && /4 byte\(s\) follow the end of the zlib stream/.test(e.message) && e.details?.offset === 42);
});

test('verify: a TOC offset that points at another entry\'s block, and a second TABLE DATA entry for one table, are defects', async () => {
  const { mkdtempSync, readFileSync, rmSync, writeFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const dir = mkdtempSync(join(tmpdir(), 'verify-toc-'));
  try {
    // Written to a file, so the TOC holds each block's offset.
    const write = async (file: string, twice: boolean): Promise<void> => {
      const entries: WriterEntry[] = [
        { dumpId: 1, desc: 'ENCODING', tag: 'ENCODING', section: 2, defn: "SET client_encoding = 'UTF8';\n" },
        { dumpId: 2, desc: 'TABLE', tag: 'a', namespace: 's', section: 2, defn: 'CREATE TABLE s.a (x int);\n' },
        { dumpId: 3, desc: 'TABLE', tag: 'b', namespace: 's', section: 2, defn: 'CREATE TABLE s.b (x int);\n' },
        { dumpId: 4, desc: 'TABLE DATA', tag: 'a', namespace: 's', section: 3, copyStmt: 'COPY s.a (x) FROM stdin;\n', dependencies: [2], hasData: true },
        twice
          ? { dumpId: 5, desc: 'TABLE DATA', tag: 'a', namespace: 's', section: 3, copyStmt: 'COPY s.a (x) FROM stdin;\n', dependencies: [2], hasData: true }
          : { dumpId: 5, desc: 'TABLE DATA', tag: 'b', namespace: 's', section: 3, copyStmt: 'COPY s.b (x) FROM stdin;\n', dependencies: [3], hasData: true },
      ];
      const w = await ArchiveWriter.create({ output: file, entries, compressionLevel: 6, dbname: 'd', serverVersion: '15' });
      await w.writeTableData(4, copyTextFromRows([['1'], ['2']]));
      await w.writeTableData(5, copyTextFromRows([['3']]));
      await w.finish();
    };

    const good = join(dir, 'good.dump');
    await write(good, false);
    assert.equal((await verifyArchive(good)).ok, true);
    // Point entry 4's offset at entry 5's block: pg_restore seeks there and stops at the wrong block.
    const r = await openArchive(good);
    const [a, b] = [r.entries.find((e) => e.dumpId === 4)!, r.entries.find((e) => e.dumpId === 5)!];
    await r.close();
    const le = (n: number) => { const x = Buffer.alloc(9); x[0] = 2; x.writeBigUInt64LE(BigInt(n), 1); return x; };
    const bytes = readFileSync(good);
    const at = bytes.indexOf(le(a.dataOffset));
    assert.ok(at > 0 && at < r.dataStart, 'the offset field of entry 4 is in the TOC');
    le(b.dataOffset).copy(bytes, at);
    const moved = join(dir, 'moved.dump');
    writeFileSync(moved, bytes);
    const report = await verifyArchive(moved);
    assert.equal(report.ok, false);
    assert.equal(report.defects[0]!.code, 'ARCHIVE_BAD_OFFSET');
    assert.match(report.defects[0]!.message, new RegExp(`\\(dumpId 4\\) at offset ${b.dataOffset}, but its block is at offset ${a.dataOffset}$`));

    const twice = join(dir, 'twice.dump');
    await write(twice, true);
    const dup = await verifyArchive(twice);
    assert.equal(dup.ok, false);
    assert.deepEqual(dup.defects.map((d) => d.code), ['ARCHIVE_DUPLICATE_TABLE_DATA']);
    assert.match(dup.defects[0]!.message, /dumpIds 4 and 5/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an archive in an encoding the reader cannot decode is named with what to do', async () => {
  const entries: WriterEntry[] = [
    { dumpId: 1, desc: 'ENCODING', tag: 'ENCODING', section: 2, defn: "SET client_encoding = 'MULE_INTERNAL';\n" },
    { dumpId: 2, desc: 'TABLE', tag: 'a', namespace: 's', section: 2, defn: 'CREATE TABLE s.a (x text);\n' },
    { dumpId: 3, desc: 'TABLE DATA', tag: 'a', namespace: 's', section: 3, copyStmt: 'COPY s.a (x) FROM stdin;\n', dependencies: [2], hasData: true },
  ];
  const chunks: Buffer[] = [];
  const sink = new (await import('node:stream')).PassThrough();
  sink.on('data', (b: Buffer) => chunks.push(b));
  const w = await ArchiveWriter.create({ output: sink, entries, dbname: 'd', serverVersion: '15' });
  await w.writeTableData(3, copyTextFromRows([['x']]));
  await w.finish();
  const reader = await openArchive(Readable.from([Buffer.concat(chunks)]));
  const expected = { code: 'ARCHIVE_ENCODING_UNSUPPORTED', message: /"MULE_INTERNAL" \(the ENCODING entry at offset \d+\)/, hint: /pg_dump -Fc -E UTF8/ };
  assert.throws(() => reader.copyEncoding(), expected);
  for await (const block of reader.blocks()) assert.throws(() => block.rows(), expected);
});
