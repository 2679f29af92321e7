/**
 * The reader against the shared test vectors: every archive's header, TOC, data blocks and
 * listing must match the independent decoder's JSON and pg_restore's --list output. The same
 * archives are also fed through a non-seekable stream in tiny, odd-sized pieces so that every
 * field straddles a chunk boundary somewhere.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { openArchive, formatListing, type ArchiveInput } from '../../src/archive/index.ts';
import { sharedDir } from '../support/pg.ts';

const shared = sharedDir();
const vectors = shared ? join(shared, 'specs', 'vectors') : undefined;
if (!vectors) console.log('# ../shared is absent: skipping the shared-vector part of the archive tests');

interface ExpectedEntry {
  dumpId: number; hadDumper: number; tableoid: string; oid: string; tag: string | null; desc: string; section: number;
  defn: string | null; dropStmt: string | null; copyStmt: string | null; namespace: string | null; tablespace: string | null;
  tableam: string | null; relkind?: number; owner: string | null; withOids: string | null; deps: string[] | number[];
  range: [number, number]; offsetFlag: number; dataOffset: number;
}
interface ExpectedBlock {
  range: [number, number]; blockType: number; dumpId: number; payload?: { utf8?: string; hex?: string };
  largeObjects?: Array<{ oid: number; payload: { hex: string } }>;
}
interface Expected {
  header: Record<string, unknown> & { tm: number[]; toc_count: number; toc_end: number; version: string };
  toc: ExpectedEntry[];
  blocks: ExpectedBlock[];
}

/** Strips the explanatory NOTE that precedes emulated listings (pg18 vectors). */
function listingBody(text: string): string {
  const lines = text.split('\n');
  let i = 0;
  while (lines[i]?.startsWith('; ')) i++;
  return lines.slice(i).join('\n');
}

async function checkVector(file: string, input: ArchiveInput): Promise<void> {
  const expected = JSON.parse(readFileSync(join(vectors!, file.replace(/\.dump$/, '.expected.json')), 'utf8')) as Expected;
  const r = await openArchive(input);
  const h = r.header;
  assert.equal(`${h.versionMajor}.${h.versionMinor}.${h.versionRev}`, expected.header.version);
  assert.equal(h.intSize, expected.header.intSize);
  assert.equal(h.offSize, expected.header.offSize);
  if ('compression_level' in expected.header) assert.equal(h.compression.level, expected.header.compression_level);
  if ('compression_algorithm' in expected.header) {
    assert.equal(h.compression.algorithm, ['none', 'gzip', 'lz4', 'zstd'][expected.header.compression_algorithm as number]);
  }
  const c = h.created;
  assert.deepEqual([c.sec, c.min, c.hour, c.mday, c.mon, c.year, c.isdst], expected.header.tm);
  assert.equal(h.dbname, expected.header.dbname);
  assert.equal(h.serverVersion, expected.header.server_version);
  assert.equal(h.pgDumpVersion, expected.header.pgdump_version);
  assert.equal(h.tocCount, expected.header.toc_count);
  assert.equal(r.dataStart, expected.header.toc_end);

  assert.equal(r.entries.length, expected.toc.length);
  r.entries.forEach((e, i) => {
    const x = expected.toc[i]!;
    assert.deepEqual({
      dumpId: e.dumpId, hadDumper: e.hadDumper ? 1 : 0, tableoid: e.tableoid, oid: e.oid, tag: e.tag, desc: e.desc,
      section: e.section, defn: e.defn, dropStmt: e.dropStmt, copyStmt: e.copyStmt, namespace: e.namespace,
      tablespace: e.tablespace, tableam: e.tableam, owner: e.owner, withOids: e.withOids, deps: e.dependencies.map(String),
      start: e.tocOffset, offsetFlag: e.offsetFlag, dataOffset: e.dataOffset, relkind: e.relkind,
    }, {
      dumpId: x.dumpId, hadDumper: x.hadDumper, tableoid: x.tableoid, oid: x.oid, tag: x.tag, desc: x.desc,
      section: x.section, defn: x.defn, dropStmt: x.dropStmt, copyStmt: x.copyStmt, namespace: x.namespace,
      tablespace: x.tablespace, tableam: x.tableam, owner: x.owner, withOids: x.withOids, deps: x.deps.map(String),
      start: x.range[0], offsetFlag: x.offsetFlag, dataOffset: x.dataOffset, relkind: x.relkind ?? 0,
    }, `TOC entry ${i} of ${file}`);
  });

  let i = 0;
  for await (const block of r.blocks()) {
    const x = expected.blocks[i++]!;
    assert.ok(x, `${file}: more blocks than expected`);
    assert.equal(block.offset, x.range[0]);
    assert.equal(block.dumpId, x.dumpId);
    assert.equal(block.kind, x.blockType === 3 ? 'blobs' : 'table-data');
    if (block.kind === 'table-data') {
      const parts: Buffer[] = [];
      for await (const p of block.payload()) parts.push(p);
      assert.equal(Buffer.concat(parts).toString('utf8'), x.payload!.utf8, `payload of ${block.entry.tag}`);
    } else {
      const los: Array<{ oid: number; hex: string }> = [];
      for await (const lo of block.largeObjects()) {
        const parts: Buffer[] = [];
        for await (const p of lo.data()) parts.push(p);
        los.push({ oid: lo.oid, hex: Buffer.concat(parts).toString('hex') });
      }
      assert.deepEqual(los, x.largeObjects!.map((o) => ({ oid: o.oid, hex: o.payload.hex })));
    }
    assert.equal(r.offset, x.range[1]);
  }
  assert.equal(i, expected.blocks.length, `${file}: number of data blocks`);

  const listing = readFileSync(join(vectors!, file.replace(/\.dump$/, '.list.txt')), 'utf8');
  assert.equal(formatListing(r.header, r.entries), listingBody(listing));
}

/** A non-seekable stream delivering the file in pieces of 1, 2, 3, … 13 bytes. */
function trickle(path: string): Readable {
  const data = readFileSync(path);
  return Readable.from((function* () {
    let at = 0; let size = 1;
    while (at < data.length) { yield data.subarray(at, at + size); at += size; size = size % 13 + 1; }
  })());
}

for (const file of vectors ? readdirSync(vectors).filter((f) => f.endsWith('.dump')).sort() : []) {
  test(`vector ${file}: header, TOC, data blocks and listing match`, async () => {
    await checkVector(file, join(vectors!, file));
  });
  test(`vector ${file}: read from a non-seekable stream in odd-sized pieces`, async () => {
    await checkVector(file, trickle(join(vectors!, file)));
  });
}

test('vector sample-z6: rows are decoded from COPY text', { skip: !vectors && 'shared vectors absent' }, async () => {
  const r = await openArchive(join(vectors!, 'sample-z6.dump'));
  const tables = new Map<string, unknown[][]>();
  for await (const block of r.blocks()) {
    if (block.kind !== 'table-data') continue;
    const rows: unknown[][] = [];
    for await (const batch of block.rows({ batchSize: 7 })) rows.push(...batch);
    assert.ok(block.sawEndMarker);
    tables.set(`${block.entry.namespace}.${block.entry.tag}`, rows);
  }
  assert.equal(tables.get('shop.bulk')!.length, 400);
  assert.deepEqual(tables.get('public.empty_table'), []);
  assert.deepEqual(tables.get('shop.Mixed Case'), [['7', 'x']]);
  assert.deepEqual(tables.get('shop.orders'), [['1', '1', '19.99', 't'], ['2', '1', '5.00', 'f'], ['3', '3', null, null]]);
  const customers = tables.get('shop.customers')!;
  assert.deepEqual(customers[0], ['1', 'Alice', 'tab:\there\nnewline above, backslash: \\ end', '2024-05-06 05:08:09.123456+00', '{"vip": true, "tags": ["a", "b"]}', '\\x00010203ff']);
  assert.deepEqual(customers[1], ['2', 'Bob', null, '2023-12-31 23:59:59+00', null, null]);
  assert.deepEqual(customers[2]!.slice(1, 3), ['Zoë 日本', 'carriage\rreturn and unicode ☃ and literal \\N']);
  assert.deepEqual(customers[3]!.slice(1, 3), ['', '\\.']);
});
