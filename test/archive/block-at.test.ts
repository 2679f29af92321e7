/**
 * Reading single data blocks by their TOC offsets (readBlockAt): the same bytes as the front-to-back
 * pass, independent of it, and clear refusals when there is no offset, no file, or the file ends
 * before the block.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { ArchiveWriter, copyTextFromRows, openArchive, type WriterEntry } from '../../src/archive/index.ts';

const entries: WriterEntry[] = [
  { dumpId: 1, desc: 'ENCODING', tag: 'ENCODING', section: 2, defn: "SET client_encoding = 'UTF8';\n" },
  { dumpId: 2, desc: 'TABLE', tag: 'a', namespace: 'public', section: 2, defn: 'CREATE TABLE public.a (x text);\n' },
  { dumpId: 3, desc: 'TABLE', tag: 'b', namespace: 'public', section: 2, defn: 'CREATE TABLE public.b (y text);\n' },
  { dumpId: 4, desc: 'TABLE DATA', tag: 'a', namespace: 'public', section: 3, copyStmt: 'COPY public.a (x) FROM stdin;\n', dependencies: [2], hasData: true },
  { dumpId: 5, desc: 'TABLE DATA', tag: 'b', namespace: 'public', section: 3, copyStmt: 'COPY public.b (y) FROM stdin;\n', dependencies: [3], hasData: true },
  { dumpId: 6, desc: 'BLOBS', tag: 'BLOBS', section: 3, hasData: true },
];

async function write(output: string | PassThrough): Promise<void> {
  const w = await ArchiveWriter.create({ output, entries, compressionLevel: 6, dbname: 'd', serverVersion: '15' });
  await w.writeTableData(4, copyTextFromRows(Array.from({ length: 5000 }, (_, i) => [`a row ${i} ${'x'.repeat(i % 70)}`])));
  await w.writeTableData(5, copyTextFromRows([['only b']]));
  await w.writeBlobs(6, (async function* () { yield { oid: 42, data: Readable.from([Buffer.from('blob bytes')]) }; })());
  await w.finish();
}

/** Runs `body` with a fresh directory holding the fixture archive written to a file (`a.dump`), then removes it. */
async function withArchive(body: (dir: string, file: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'block-at-'));
  try {
    const file = join(dir, 'a.dump');
    await write(file);
    await body(dir, file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function collect(chunks: AsyncIterable<Buffer>): Promise<string> {
  const parts: Buffer[] = [];
  for await (const c of chunks) parts.push(Buffer.from(c));
  return Buffer.concat(parts).toString();
}

test('blocks read by offset equal the front-to-back pass, in any order, beside it', () => withArchive(async (_dir, file) => {
  const reader = await openArchive(file);
  assert.equal(reader.size, readFileSync(file).length);
  const byId = new Map(reader.entries.map((e) => [e.dumpId, e]));
  // Out of file order, before and while blocks() runs.
  const b = await reader.readBlockAt(byId.get(5)!, (block) => collect(block.payload()));
  assert.match(b, /^only b\n\\.\n/);
  const sequential = new Map<number, string>();
  for await (const block of reader.blocks()) {
    if (block.kind === 'blobs') continue;
    sequential.set(block.dumpId, await collect(block.payload()));
    const again = await reader.readBlockAt(block.entry, (other) => collect(other.payload()));
    assert.equal(again, sequential.get(block.dumpId), `dumpId ${block.dumpId} by offset`);
  }
  assert.equal(sequential.get(5), b);
  assert.match(sequential.get(4)!, /^a row 0 \na row 1 x\n/);
  const blob = await reader.readBlockAt(byId.get(6)!, async (block) => {
    for await (const lo of block.largeObjects()) return `${lo.oid}:${await collect(lo.data())}`;
    return '';
  });
  assert.equal(blob, '42:blob bytes');
}));

test('no file, no offset, a cut file or an offset at another block: each refused by name', () => withArchive(async (dir, file) => {
  const bytes = readFileSync(file);

  const stream = await openArchive(Readable.from([bytes]));
  assert.equal(stream.size, undefined);
  await assert.rejects(stream.readBlockAt(stream.entries.find((e) => e.dumpId === 4)!, async () => 0), { code: 'ARCHIVE_NOT_SEEKABLE' });
  await stream.close();

  // Written to a pipe: the TOC has no offsets.
  const piped = new PassThrough();
  const parts: Buffer[] = [];
  piped.on('data', (c: Buffer) => parts.push(c));
  await write(piped);
  const pipedFile = join(dir, 'piped.dump');
  writeFileSync(pipedFile, Buffer.concat(parts));
  const noOffsets = await openArchive(pipedFile);
  await assert.rejects(noOffsets.readBlockAt(noOffsets.entries.find((e) => e.dumpId === 4)!, async () => 0), { code: 'ARCHIVE_NO_OFFSET' });
  await noOffsets.close();

  const full = await openArchive(file);
  const last = full.entries.find((e) => e.dumpId === 6)!;
  const a = full.entries.find((e) => e.dumpId === 4)!;
  const b = full.entries.find((e) => e.dumpId === 5)!;
  await full.close();
  const cutFile = join(dir, 'cut.dump');
  writeFileSync(cutFile, bytes.subarray(0, last.dataOffset));
  const cut = await openArchive(cutFile);
  const lastOfCut = cut.entries.find((e) => e.dumpId === 6)!;
  assert.throws(() => cut.checkDataOffset(lastOfCut), (err: { code?: string; message?: string }) =>
    err.code === 'ARCHIVE_TRUNCATED' && err.message!.includes(`offset ${last.dataOffset}`) && /beyond the end of the file/.test(err.message!));
  await assert.rejects(cut.readBlockAt(lastOfCut, async () => 0), { code: 'ARCHIVE_TRUNCATED' });
  cut.checkDataOffset(cut.entries.find((e) => e.dumpId === 4)!); // blocks inside the file pass
  await cut.close();

  const reader = await openArchive(file);
  await assert.rejects(reader.readBlockAt({ ...a, dataOffset: b.dataOffset }, async () => 0),
    (err: { code?: string; message?: string }) => err.code === 'ARCHIVE_CORRUPT' && /dumpId 5/.test(err.message!));
  await reader.close();
}));

test('a file replaced or rewritten after its TOC was read is refused (ARCHIVE_CHANGED); a FIFO is not a file', () => withArchive(async (dir, file) => {
  const original = readFileSync(file);
  const copy = join(dir, 'copy.dump');
  writeFileSync(copy, original);
  const entryOf = (r: { entries: Array<{ dumpId: number }> }) => r.entries.find((e) => e.dumpId === 4)! as never;

  const replaced = await openArchive(file);
  renameSync(copy, file); // the same bytes, another file
  await assert.rejects(replaced.readBlockAt(entryOf(replaced), async () => 0), (err: { code?: string; message?: string }) => err.code === 'ARCHIVE_CHANGED' && /another file/.test(err.message!));
  await replaced.close();

  const rewritten = await openArchive(file);
  const bytes = readFileSync(file);
  bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 1;
  await new Promise((r) => setTimeout(r, 20)); // a later modification time
  writeFileSync(file, bytes); // same inode, same size
  await assert.rejects(rewritten.readBlockAt(entryOf(rewritten), async () => 0), { code: 'ARCHIVE_CHANGED' });
  await rewritten.close();

  const removed = await openArchive(file);
  rmSync(file);
  await assert.rejects(removed.readBlockAt(entryOf(removed), async () => 0), (err: { code?: string; message?: string }) => err.code === 'ARCHIVE_CHANGED' && /cannot be opened again/.test(err.message!));
  await removed.close();

  const fifo = join(dir, 'a.fifo');
  execFileSync('mkfifo', [fifo]);
  const writer = (async () => { const fh = await open(fifo, 'w'); await fh.write(original); await fh.close(); })();
  const piped = await openArchive(fifo);
  assert.equal(piped.size, undefined, 'a FIFO has no size to check offsets against');
  await assert.rejects(piped.readBlockAt(entryOf(piped), async () => 0), { code: 'ARCHIVE_NOT_SEEKABLE' });
  for await (const block of piped.blocks()) void block; // let the writer finish
  await writer;
}));
