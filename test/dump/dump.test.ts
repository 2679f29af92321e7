/**
 * dumpDatabase against real PostgreSQL and stock pg_restore: full fidelity (data checksums and
 * the schema as pg_dump itself sees it), parallel restore, metadata, one-snapshot consistency
 * under concurrent writes, and refusal of object kinds it cannot dump.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { promisify } from 'node:util';
import pg from 'pg';
import { dumpDatabase, readArchiveMetadata } from '../../src/dump/index.ts';
import { openArchive, verifyArchive } from '../../src/archive/index.ts';
import { isAppError } from '../../src/errors/index.ts';
import { createTestDatabase, type TestDatabase } from '../support/pg.ts';
import { databaseChecksums, VARIED_SQL } from '../archive/varied-db.ts';

const run = promisify(execFile);
let dir: string;
const dbs: TestDatabase[] = [];
before(() => { dir = mkdtempSync(join(tmpdir(), 'astore-dump-')); });
after(async () => {
  for (const d of dbs) await d.drop().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

async function newDb(prefix: string, sql?: string): Promise<TestDatabase> {
  const db = await createTestDatabase(prefix);
  dbs.push(db);
  if (sql) {
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    try { await c.query(sql); } finally { await c.end(); }
  }
  return db;
}

async function pgRestore(args: string[], stdin?: NodeJS.ReadableStream): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const child = spawn('pg_restore', ['--exit-on-error', ...args], { stdio: [stdin ? 'pipe' : 'ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr!.on('data', (b: Buffer) => { err += b.toString(); });
    if (stdin) stdin.pipe(child.stdin!);
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`pg_restore ${args.join(' ')} exited ${code}: ${err}`))));
  });
}

/** The schema as stock pg_dump prints it: equal text means equal tables, types, sequences, constraints and indexes. */
async function schemaText(url: string): Promise<string> {
  const { stdout } = await run('pg_dump', ['-s', '--no-owner', '-d', url]);
  return stdout.replace(/^\\(un)?restrict .*$/gm, '').replace(/^-- Dumped (from|by) .*$/gm, '');
}

const EXTRA_SQL = `
CREATE TABLE app.extras (
  id integer PRIMARY KEY,
  price numeric(8,2) NOT NULL,
  doubled numeric GENERATED ALWAYS AS (price * 2) STORED,
  "select" text COLLATE "C",
  during tsrange,
  EXCLUDE USING gist (during WITH &&)
);
INSERT INTO app.extras (id, price, "select", during) VALUES (1, 2.5, 'a', '[2024-01-01,2024-01-02)'), (2, 1999, NULL, NULL);
ALTER TABLE app.extras ADD CONSTRAINT later CHECK (price < 1000) NOT VALID;
CREATE UNLOGGED TABLE app.scratch (k text UNIQUE, v int DEFAULT 42);
INSERT INTO app.scratch (k) VALUES ('one'), ('two');
CREATE INDEX extras_lower_idx ON app.extras (lower("select")) WHERE id > 0;
CREATE TABLE app.notes (id serial PRIMARY KEY, body text);
INSERT INTO app.notes (body) VALUES ('first'), ('second');
DO $$ BEGIN CREATE ROLE dump_reader; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
GRANT USAGE ON SCHEMA app TO dump_reader;
GRANT SELECT, UPDATE ON app.extras TO dump_reader WITH GRANT OPTION;
GRANT USAGE ON SEQUENCE app.ticket_seq TO PUBLIC;
COMMENT ON SCHEMA app IS 'the app''s tables';
COMMENT ON TABLE app.extras IS 'extras';
COMMENT ON COLUMN app.extras."select" IS 'a column named by a keyword';
`;

test('a varied database dumped by dumpDatabase restores with stock pg_restore to equal data and schema', async () => {
  const source = await newDb('dsrc', VARIED_SQL + EXTRA_SQL);
  const file = join(dir, 'varied.dump');
  const progress: number[] = [];
  const summary = await dumpDatabase({
    connectionString: source.url, output: file, metadata: { schemaRelease: 7, keyFingerprint: 'sha256:abc' },
    onProgress: (p) => progress.push(p.rows),
  });
  const want = await databaseChecksums(source.url);
  assert.equal(summary.rows, summary.tables.reduce((a, t) => a + t.rows, 0));
  assert.equal(summary.tables.find((t) => t.name === 'orders')!.rows, Number(want['app.orders']!.split(':')[0]));
  assert.ok(progress.length > 0 && progress.at(-1) === summary.rows);
  assert.deepEqual(await readArchiveMetadata(file), { schemaRelease: 7, keyFingerprint: 'sha256:abc' });
  const report = await verifyArchive(file);
  assert.equal(report.ok, true, JSON.stringify(report.defects));
  assert.equal(report.archiveBytes, summary.bytes);

  const { stdout: listing } = await run('pg_restore', ['--list', file]);
  assert.match(listing, /ASTORE METADATA - astore-metadata/);
  const schema = await schemaText(source.url);
  for (const part of ['CREATE TABLE app.extras', 'EXCLUDE USING gist', 'GENERATED BY DEFAULT AS IDENTITY', 'OWNED BY app.customers.id', 'NOT VALID', 'CREATE DOMAIN app.positive', 'CREATE UNLOGGED TABLE',
    'GRANT SELECT,UPDATE ON TABLE app.extras TO dump_reader WITH GRANT OPTION', "COMMENT ON COLUMN app.extras.\"select\"", 'GRANT USAGE ON SEQUENCE app.ticket_seq TO PUBLIC']) {
    assert.ok(schema.includes(part), `source schema lacks ${part}`);
  }
  for (const args of [[], ['-j2']]) {
    const target = await newDb('dtgt');
    await pgRestore(['-d', target.url, ...args, file]);
    assert.deepEqual(await databaseChecksums(target.url), want, `data after pg_restore ${args.join(' ')}`);
    assert.equal(await schemaText(target.url), schema, `schema after pg_restore ${args.join(' ')}`);
  }

  // Over an existing copy with --clean in one transaction (it drops in reverse order: a sequence
  // created before the table that owns it was dropped with the table first, and its DROP failed),
  // and one table alone (its serial default used to be inline, naming a sequence not restored).
  const again = await newDb('dtgc');
  await pgRestore(['-d', again.url, file]);
  await pgRestore(['-c', '-1', '-d', again.url, file]);
  assert.deepEqual(await databaseChecksums(again.url), want, 'data after pg_restore -c -1 over a copy');
  const single = await newDb('dtgt1', 'CREATE SCHEMA app');
  await pgRestore(['-n', 'app', '-t', 'notes', '-d', single.url, file]);
  const c = new pg.Client({ connectionString: single.url });
  await c.connect();
  try {
    assert.deepEqual((await c.query('SELECT body FROM app.notes ORDER BY id')).rows.map((r) => r.body), ['first', 'second']);
  } finally {
    await c.end();
  }

  // To a non-seekable stream, uncompressed, restored from a pipe.
  const pipe = new PassThrough();
  const target = await newDb('dtgp');
  const restoring = pgRestore(['-d', target.url], pipe);
  await dumpDatabase({ connectionString: source.url, output: pipe, compressionLevel: 0 });
  await restoring;
  assert.deepEqual(await databaseChecksums(target.url), want, 'data after restore from a pipe');
});

test('a dump taken while another connection inserts and deletes equals one snapshot', async () => {
  // Every writer transaction inserts the same id into a and b and deletes the same old id from
  // both, so in any single snapshot the id sets of a and b are equal. A dump that read the two
  // tables at different moments (e.g. one transaction per table) would see them differ.
  const source = await newDb('dsnap', `
    CREATE TABLE a (id int PRIMARY KEY, pad text);
    CREATE TABLE b (id int PRIMARY KEY);
    INSERT INTO a SELECT g, repeat(md5(g::text), 8) FROM generate_series(1, 150000) g;
    INSERT INTO b SELECT g FROM generate_series(1, 150000) g;`);
  const writer = new pg.Client({ connectionString: source.url });
  await writer.connect();
  let stop = false;
  let commits = 0;
  let next = 150001;
  const writing = (async () => {
    while (!stop) {
      const id = next++;
      await writer.query(`BEGIN; INSERT INTO a VALUES (${id}, 'new'); INSERT INTO b VALUES (${id});
        DELETE FROM a WHERE id = ${id - 150000}; DELETE FROM b WHERE id = ${id - 150000}; COMMIT;`);
      commits++;
    }
  })();
  while (commits < 5) await new Promise((r) => setTimeout(r, 5));
  const before = commits;
  const file = join(dir, 'snap.dump');
  await dumpDatabase({ connectionString: source.url, output: file, compressionLevel: 9 });
  const during = commits - before;
  stop = true;
  await writing;
  await writer.end();
  assert.ok(during > 0, 'the writer committed nothing while the dump ran; the test proves nothing');

  const target = await newDb('dsnapr');
  await pgRestore(['-d', target.url, file]);
  const c = new pg.Client({ connectionString: target.url });
  await c.connect();
  const r = await c.query<{ only_a: string; only_b: string; n: string }>(`
    SELECT (SELECT count(*) FROM a WHERE id NOT IN (SELECT id FROM b)) AS only_a,
           (SELECT count(*) FROM b WHERE id NOT IN (SELECT id FROM a)) AS only_b, (SELECT count(*) FROM a) AS n`);
  await c.end();
  assert.deepEqual(r.rows[0], { only_a: '0', only_b: '0', n: '150000' });
  // The restored state is an earlier one than the final state: the dump really overlapped the writes.
  const s = new pg.Client({ connectionString: source.url });
  await s.connect();
  const maxNow = (await s.query<{ m: number }>('SELECT max(id) AS m FROM a')).rows[0]!.m;
  await s.end();
  const t = new pg.Client({ connectionString: target.url });
  await t.connect();
  const maxDumped = (await t.query<{ m: number }>('SELECT max(id) AS m FROM a')).rows[0]!.m;
  await t.end();
  assert.ok(maxDumped < maxNow, `dumped ${maxDumped}, final ${maxNow}`);
});

test('a view or a function stops the dump with an error naming it, leaving no file', async () => {
  for (const [sql, name] of [
    ['CREATE TABLE t (x int); CREATE VIEW v AS SELECT x FROM t;', /view public\.v/],
    ['CREATE SCHEMA s; CREATE FUNCTION s.f(a int) RETURNS int LANGUAGE sql AS $$ SELECT a $$;', /function s\.f\(a integer\)/],
    ['CREATE TABLE t (x int); CREATE FUNCTION tf() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$; CREATE TRIGGER trg BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION tf();', /trigger trg on public\.t/],
    // Settings the dumper does not write: refused by name rather than left out of the backup.
    ['CREATE TABLE t (v text); ALTER TABLE t ALTER COLUMN v SET STORAGE EXTERNAL;', /column storage setting public\.t\.v/],
    ['CREATE TABLE t (n int); ALTER TABLE t ALTER COLUMN n SET STATISTICS 500;', /column statistics target public\.t\.n/],
    ['CREATE TABLE t (n int); ALTER TABLE t REPLICA IDENTITY FULL;', /table replica identity public\.t/],
    ['CREATE TABLE t (n int); CREATE INDEX t_n ON t (n); COMMENT ON INDEX t_n IS \'x\';', /comment on index public\.t_n/],
    ['CREATE TABLE t (n int); GRANT SELECT (n) ON t TO PUBLIC;', /column privileges public\.t\.n/],
  ] as const) {
    const db = await newDb('dbad', sql);
    const file = join(dir, 'bad.dump');
    await assert.rejects(dumpDatabase({ connectionString: db.url, output: file }), (e: unknown) => {
      assert.ok(isAppError(e));
      assert.equal(e.code, 'DUMP_UNSUPPORTED_OBJECT');
      assert.match(e.message, name);
      return true;
    });
    assert.equal(existsSync(file), false);
  }
});

test('rows dumped by dumpDatabase read back through our reader', async () => {
  const source = await newDb('drd', VARIED_SQL);
  const chunks: Buffer[] = [];
  const out = new PassThrough();
  out.on('data', (b: Buffer) => chunks.push(b));
  const summary = await dumpDatabase({ connectionString: source.url, output: out });
  const r = await openArchive(PassThroughOf(Buffer.concat(chunks)));
  const counts: Record<string, number> = {};
  for await (const block of r.blocks()) {
    let n = 0;
    for await (const batch of block.rows()) n += batch.length;
    counts[`${block.entry.namespace}.${block.entry.tag}`] = n;
  }
  assert.deepEqual(counts, Object.fromEntries(summary.tables.map((t) => [`${t.schema}.${t.name}`, t.rows])));
});

function PassThroughOf(b: Buffer): PassThrough { const p = new PassThrough(); p.end(b); return p; }

test('tables with bytea columns (read as binary COPY) are archived exactly as text COPY prints them', async () => {
  const big = Array.from({ length: 300_000 }, (_, i) => (i * 7919) % 256);
  const source = await newDb('dbin', `
    CREATE TABLE public.blobs (id int, name text, note varchar(20), data bytea, j jsonb, ts timestamptz, f float8, arr text[], big bytea);
    INSERT INTO public.blobs VALUES
      (1, E'tab\\there, nl\\nthere, cr\\r, bs\\\\, \\b\\f\\v, ünï', 'x', '\\x00ff0a09', '{"a": [1, "\\t"]}', '2024-02-29 12:34:56.789+01', 0.1, '{a,"b c",NULL}', decode('${Buffer.from(big).toString('hex')}', 'hex')),
      (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
      (3, '', '', '', 'null', '-infinity', 'NaN', '{}', '\\x');
    CREATE TABLE public.mixed (flag boolean, pad char(4), data bytea);
    INSERT INTO public.mixed VALUES (true, 'ab', '\\xdeadbeef'), (NULL, NULL, NULL);
    -- Several MiB, so values and field headers are cut by the reader's 1 MiB pieces somewhere.
    CREATE TABLE public.many AS SELECT g AS id, repeat(E'ab\\tc\\\\', g % 60) AS t, decode(md5(g::text), 'hex') AS b,
      CASE WHEN g % 7 = 0 THEN NULL ELSE repeat('long clean text ', g % 90) END AS clean FROM generate_series(1, 40000) g;`);
  const file = join(dir, 'bytea.dump');
  const summary = await dumpDatabase({ connectionString: source.url, output: file });
  assert.equal(summary.tables.find((t) => t.name === 'blobs')!.rows, 3);
  for (const table of ['blobs', 'mixed', 'many']) {
    const { stdout } = await run('pg_restore', ['-a', '-t', table, '-f', '-', file], { maxBuffer: 64 << 20 });
    const archived = stdout.slice(stdout.indexOf('FROM stdin;\n') + 'FROM stdin;\n'.length, stdout.indexOf('\\.\n'));
    const { stdout: copied } = await run('psql', ['-X', '-q', '-d', source.url, '-c',
      `SET extra_float_digits = 3; SET DateStyle = 'ISO'; SET IntervalStyle = 'postgres'; COPY public.${table} TO STDOUT`], { maxBuffer: 64 << 20 });
    assert.ok(copied.length > 0);
    assert.equal(archived, copied, `${table}: archived COPY text differs from the server's`);
  }
  const target = await newDb('dbint');
  await pgRestore(['-d', target.url, file]);
  assert.deepEqual(await databaseChecksums(target.url), await databaseChecksums(source.url));
});

test('an output that fails in the middle of a table ends the dump with its error, and no COPY is left running', { timeout: 60_000 }, async () => {
  const source = await newDb('dfail', `CREATE TABLE public.big AS SELECT g, repeat(md5(g::text), 20) AS t FROM generate_series(1, 60000) g`);
  let written = 0;
  const out = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      written += chunk.length;
      callback(written > 1 << 20 ? new Error('no space left on device') : null);
    },
  });
  out.on('error', () => undefined); // observed through the dump's rejection
  await assert.rejects(dumpDatabase({ connectionString: source.url, output: out, compressionLevel: 0 }), /no space left|closed before the archive was complete/);
  // The dump's connection was mid-COPY when its consumer stopped: it must be gone, not parked.
  const c = new pg.Client({ connectionString: source.url });
  await c.connect();
  try {
    for (let i = 0; ; i++) {
      const r = await c.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'astore dump'`);
      if (r.rows[0].n === 0) break;
      assert.ok(i < 50, 'the dump connection is still open 5 s after the dump failed');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    await c.end();
  }
});
