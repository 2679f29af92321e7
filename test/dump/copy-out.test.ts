/**
 * CopyOut reads COPY output straight off the socket: exact bytes in pool-sized pieces, protocol
 * messages interleaved with the data skipped, and every server error — before the first row or
 * in the middle — reported, with the connection usable afterwards.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import pg from 'pg';
import { BufferPool } from '../../src/archive/index.ts';
import { CopyOut } from '../../src/dump/copy-out.ts';
import { createTestDatabase, type TestDatabase } from '../support/pg.ts';

let db: TestDatabase;
let client: pg.Client;
before(async () => {
  db = await createTestDatabase('copyout');
  client = new pg.Client({ connectionString: db.url });
  await client.connect();
});
after(async () => {
  await client.end();
  await db.drop();
});

async function copyOut(sql: string, pool = new BufferPool(64 * 1024)): Promise<Buffer[]> {
  const pieces: Buffer[] = [];
  // Copied, because each piece is handed on with its pool and would be reused in a real pipeline.
  for await (const piece of client.query(new CopyOut(sql, pool))) pieces.push(Buffer.from(piece));
  return pieces;
}

test('COPY text arrives byte for byte, in whole pieces but the last', async () => {
  const sql = `SELECT g, repeat(md5(g::text), g % 7), E'tab\\there\\nnewline', NULL::text FROM generate_series(1, 20000) g`;
  const pieces = await copyOut(`COPY (${sql}) TO STDOUT`);
  const expected = (await client.query<{ line: string }>(
    `SELECT string_agg(concat_ws(E'\\t', g::text, repeat(md5(g::text), g % 7), E'tab\\\\there\\\\nnewline', '\\N'), E'\\n' ORDER BY g) || E'\\n' AS line FROM generate_series(1, 20000) g`)).rows[0]!.line;
  assert.equal(Buffer.concat(pieces).toString(), expected);
  assert.ok(pieces.length > 10);
  for (const p of pieces.slice(0, -1)) assert.equal(p.length, 64 * 1024);
  assert.equal((await client.query('SELECT 1 AS one')).rows[0].one, 1, 'the connection is usable after COPY');
});

test('an empty table gives no pieces', async () => {
  await client.query('CREATE TABLE empty_t (x int)');
  assert.deepEqual(await copyOut('COPY empty_t TO STDOUT'), []);
});

test('notices sent during COPY are not mistaken for data', async () => {
  await client.query(`CREATE FUNCTION noisy(i int) RETURNS int LANGUAGE plpgsql AS $$
    BEGIN IF i % 500 = 0 THEN RAISE NOTICE 'row %', i; END IF; RETURN i; END $$`);
  const text = Buffer.concat(await copyOut('COPY (SELECT noisy(g) FROM generate_series(1, 3000) g) TO STDOUT')).toString();
  assert.equal(text, Array.from({ length: 3000 }, (_, i) => `${i + 1}\n`).join(''));
});

test('an error before the first row is reported and the connection stays usable', async () => {
  await assert.rejects(copyOut('COPY no_such_table TO STDOUT'), /no_such_table/);
  assert.equal((await client.query('SELECT 2 AS two')).rows[0].two, 2);
});

test('an error after many rows is reported, not taken for the end of the data', async () => {
  // Division by zero at row 60000: well after the first pieces went out.
  await assert.rejects(copyOut('COPY (SELECT g, 1 / (60000 - g), md5(g::text) FROM generate_series(1, 100000) g) TO STDOUT'), /division by zero/);
  assert.equal((await client.query('SELECT 3 AS three')).rows[0].three, 3);
});

test('pieces are taken from the pool, so given-back buffers are reused', async () => {
  const pool = new BufferPool(16 * 1024, 4);
  const seen = new Set<ArrayBufferLike>();
  let pieces = 0;
  for await (const piece of client.query(new CopyOut('COPY (SELECT repeat(md5(g::text), 4) FROM generate_series(1, 5000) g) TO STDOUT', pool))) {
    seen.add(piece.buffer);
    pieces++;
    pool.give(piece);
  }
  assert.ok(pieces > 20);
  // One socket read can fill several pieces before the consumer sees the first, so a few are live at once.
  assert.ok(seen.size <= 8, `${seen.size} distinct buffers for ${pieces} pieces`);
});

/** Protocol message: type byte, length (including itself), payload. */
function message(type: string, payload: Buffer | string): Buffer {
  const body = Buffer.from(payload);
  const head = Buffer.alloc(5);
  head.write(type, 0, 'latin1');
  head.writeUInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
}

test('any cut of the byte stream into socket reads gives the same rows (headers split, notices between rows)', { timeout: 20_000 }, async () => {
  const rows = Array.from({ length: 300 }, (_, i) => `${i}\t${'x'.repeat(i % 37)}\n`);
  const tail = Buffer.concat([message('c', ''), message('C', 'COPY 300\0'), message('Z', 'I')]);
  const wire = Buffer.concat([
    message('H', Buffer.from([0, 0, 0])),
    ...rows.flatMap((r, i) => (i % 50 === 7 ? [message('N', 'SNOTICE\0Mhello\0\0'), message('d', r)] : [message('d', r)])),
    tail,
  ]);
  for (const cut of [1, 2, 3, 4, 5, 6, 7, 11, 64, 1000, wire.length]) {
    const stream = new PassThrough();
    const handedBack: Buffer[] = [];
    const copy = new CopyOut('COPY t TO STDOUT', new BufferPool(97));
    // Stands in for node-postgres's protocol parser: it gets the socket back after CopyDone.
    stream.on('data', (b: Buffer) => {
      handedBack.push(b);
      if (Buffer.concat(handedBack).length === tail.length) setImmediate(() => copy.handleReadyForQuery());
    });
    copy.submit({ stream, query: () => undefined });
    for (let at = 0; at < wire.length; at += cut) stream.write(wire.subarray(at, at + cut));
    const pieces: Buffer[] = [];
    for await (const piece of copy) pieces.push(Buffer.from(piece));
    assert.equal(Buffer.concat(pieces).toString(), rows.join(''), `reads of ${cut} bytes`);
    assert.ok(Buffer.concat(handedBack).equals(tail), `the parser gets CopyDone and what follows (reads of ${cut} bytes)`);
  }
});

test('a message length below 4 is refused and the connection closed, not read as data', { timeout: 20_000 }, async () => {
  for (const cut of [1, 3, 1000]) {
    const stream = new PassThrough();
    stream.on('data', () => assert.fail('nothing may be handed back to the parser'));
    const copy = new CopyOut('COPY t TO STDOUT', new BufferPool(97));
    copy.submit({ stream, query: () => undefined });
    const bad = Buffer.from([0x64, 0, 0, 0, 2]); // CopyData claiming 2 bytes, less than its length field
    const wire = Buffer.concat([message('d', 'first row\n'), bad, Buffer.from('rest')]);
    for (let at = 0; at < wire.length; at += cut) stream.write(wire.subarray(at, at + cut));
    await assert.rejects((async () => { for await (const piece of copy) void piece; })(), /DUMP_COPY_FAILED|malformed message/);
    assert.ok(stream.destroyed, `the connection is closed (reads of ${cut} bytes)`);
  }
});
