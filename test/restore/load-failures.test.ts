/**
 * Failures that only the load itself can find, each with the target untouched, no staging schema
 * left behind and writes accepted again: an archive whose rows break a foreign key or a unique
 * constraint (found when they are rebuilt after the load), and a row the server rejects in the
 * middle of a COPY split over two connections. And the quiesce flag of a dead restore blocks nothing even when
 * its pid now belongs to another backend.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { OFFSET_SET, openArchive } from '../../src/archive/index.ts';
import { encryptWebhooks, instanceCrn, readSecretFile, SECRET_FILE_NAME, type EncryptionKey } from '../../src/auth/index.ts';
import { maintenanceMessage, restore, setMaintenance, type RestoreOptions } from '../../src/restore/index.ts';
import { migrate, recordFingerprint } from '../../src/store/index.ts';
import { createTestDatabase } from '../support/pg.ts';
import { startTestStore, type TestStore } from '../support/store.ts';
import { checksum, pgDump, writeMapping, writeRc } from './helpers.ts';
import { cleanUp } from '../support/cleanup.ts';

/** A one-instance store database at the current release, damaged by `damage`, dumped with pg_dump. */
async function damagedArchive(file: string, key: EncryptionKey, damage: (c: pg.Client, intent: number) => Promise<void>, dump = pgDump): Promise<string> {
  const db = await createTestDatabase('damaged');
  const c = new pg.Client({ connectionString: db.url });
  await c.connect();
  const instance = randomUUID();
  try {
    await migrate(c, { schema: 'astore', context: { encryptWebhooks: (w) => encryptWebhooks(w, key) } });
    const user = randomUUID();
    await c.query(`insert into astore.users (id, name) values ($1, 'someone')`, [user]);
    await c.query(`insert into astore.instances (id, name, owner_id, crn) values ($1, 'damaged', $2, $3)`, [instance, user, instanceCrn(instance)]);
    const ws = randomUUID();
    await c.query(`insert into astore.workspaces (id, instance_id, name, language) values ($1, $2, 'skill', 'en')`, [ws, instance]);
    const intent = await c.query(`insert into astore.intents (workspace_id, intent) values ($1, 'greet') returning id`, [ws]);
    await recordFingerprint(c, 'astore', key);
    await damage(c, Number(intent.rows[0].id));
  } finally {
    await c.end();
  }
  dump(db.url, file);
  await db.drop();
  return instance;
}

/** Stock pg_dump writing to a pipe, as `pg_dump -Fc | ...` does: the archive's TOC has no data offsets. */
function pgDumpToPipe(url: string, file: string): void {
  writeFileSync(file, execFileSync('/usr/bin/pg_dump', ['-Fc', '-d', url], { maxBuffer: 1 << 28, stdio: ['ignore', 'pipe', 'inherit'] }));
}

describe('pgmig: failures during the load leave the target as it was', () => {
  let dir: string;
  let b: TestStore;
  let base: Omit<RestoreOptions, 'source' | 'mapping'>;
  let key: EncryptionKey;
  let targetInstance: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pgmig-fail-'));
    const home = join(dir, 'home');
    mkdirSync(home);
    b = await startTestStore({ home, hooks: { writesBlocked: () => maintenanceMessage(b.store.pool) } });
    key = readSecretFile(join(home, SECRET_FILE_NAME))!;
    const t = await b.tenant('bob', 'target');
    targetInstance = t.instanceId;
    await b.store.pool.query(`insert into workspaces (id, instance_id, name, language) values ($1, $2, 'existing', 'en')`, [randomUUID(), t.instanceId]);
    base = {
      resourceController: writeRc(dir, b.url, [t.token]), force: true, interactive: false, cwd: dir,
      env: { DATABASE_URL: b.db.url, ASTORE_HOME: home },
    };
  });
  after(() => cleanUp(() => b?.close(), () => rmSync(dir, { recursive: true, force: true })));

  async function assertFailsUntouched(source: string, instance: string, code: string, message: RegExp): Promise<void> {
    const before = await checksum(b.db.url);
    const mapping = writeMapping(dir, { [instance]: targetInstance }, `${code}.yaml`);
    await assert.rejects(restore({ ...base, source, mapping }), (err: { code?: string; message?: string }) => {
      assert.equal(err.code, code, err.message);
      assert.match(err.message!, message);
      return true;
    });
    assert.deepEqual(await checksum(b.db.url), before, 'the target is untouched');
    const staging = await b.store.pool.query(`select nspname from pg_namespace where nspname like 'astore_restore_%'`);
    assert.deepEqual(staging.rows, [], 'the staging schema is dropped');
    assert.equal(await maintenanceMessage(b.store.pool), undefined, 'writes are accepted again');
  }

  test('rows that break a foreign key: RESTORE_INCONSISTENT naming the constraint', async () => {
    const file = join(dir, 'dangling.dump');
    const instance = await damagedArchive(file, key, async (c) => {
      await c.query(`alter table astore.examples drop constraint examples_intent_id_fkey`);
      await c.query(`insert into astore.examples (intent_id, text) values (987654321, 'orphan')`);
    });
    await assertFailsUntouched(file, instance, 'RESTORE_INCONSISTENT', /examples_intent_id_fkey on examples/);
  });

  test('rows that break a unique constraint: RESTORE_INCONSISTENT naming it', async () => {
    const file = join(dir, 'duplicate.dump');
    const instance = await damagedArchive(file, key, async (c, intent) => {
      await c.query(`alter table astore.examples drop constraint examples_intent_id_text_key`);
      await c.query(`insert into astore.examples (intent_id, text) values ($1, 'twice'), ($1, 'twice')`, [intent]);
    });
    await assertFailsUntouched(file, instance, 'RESTORE_INCONSISTENT', /examples_intent_id_text_key on examples: .*duplicate/);
  });

  test('a row the server rejects after both connections have copied: RESTORE_LOAD_FAILED naming the table', async () => {
    const file = join(dir, 'null.dump');
    const instance = await damagedArchive(file, key, async (c, intent) => {
      await c.query(`alter table astore.examples alter column text drop not null`);
      // About 2 MB of rows before the bad one: several chunks, so both connections are copying.
      await c.query(`insert into astore.examples (intent_id, text) select $1, 'example ' || g || ' ' || md5(g::text) from generate_series(1, 30000) g`, [intent]);
      await c.query(`insert into astore.examples (intent_id, text) values ($1, null)`, [intent]);
    });
    await assertFailsUntouched(file, instance, 'RESTORE_LOAD_FAILED', /loading table examples failed: .*null value in column "text"/);
  });

  /** Flips bytes in the middle of the compressed data of `table`'s block (past its block and chunk headers). */
  async function damageBlock(file: string, table: string): Promise<void> {
    // Located by walking the blocks, so that archives without data offsets can be damaged too.
    const starts: Array<[string | null, number]> = [];
    for await (const block of (await openArchive(file)).blocks()) starts.push([block.entry.tag, block.offset]);
    const bytes = readFileSync(file);
    const i = starts.findIndex(([tag]) => tag === table);
    const start = starts[i]![1];
    const next = starts[i + 1]?.[1] ?? bytes.length;
    const at = Math.floor((start + 16 + next) / 2);
    for (let i = at; i < at + 8; i++) bytes[i] = bytes[i]! ^ 0x5a;
    writeFileSync(file, bytes);
  }

  /** An archive with enough rows in `examples` that its block is many kilobytes of compressed data. */
  const bulky = (file: string, dump?: (url: string, file: string) => void): Promise<string> => damagedArchive(file, key, async (c, intent) => {
    await c.query(`insert into astore.examples (intent_id, text) select $1, 'example ' || g || ' ' || md5(g::text) from generate_series(1, 30000) g`, [intent]);
    await c.query(`insert into astore.backup_jobs (trigger, started_at, status, log) select 'job', now(), 'succeeded', repeat(md5(g::text), 40) from generate_series(1, 200) g`);
  }, dump);

  test('damage in the bulk data is found by the load itself: ARCHIVE_CORRUPT, the target untouched', async () => {
    const file = join(dir, 'flipped.dump');
    const instance = await bulky(file);
    await damageBlock(file, 'examples');
    const lines: string[] = [];
    base.log = (line) => lines.push(line);
    try {
      await assertFailsUntouched(file, instance, 'ARCHIVE_CORRUPT', /examples/);
    } finally {
      delete base.log;
    }
    assert.ok(lines.some((l) => /loading into a staging schema/.test(l)), 'the preflight did not read the examples; the load found the damage');
  });

  test('--verify-first finds the same damage before the store is quiesced', async () => {
    const file = join(dir, 'flipped-first.dump');
    const instance = await bulky(file);
    await damageBlock(file, 'examples');
    const lines: string[] = [];
    const mapping = writeMapping(dir, { [instance]: targetInstance }, 'first.yaml');
    const before = await checksum(b.db.url);
    await assert.rejects(restore({ ...base, source: file, mapping, verifyFirst: true, log: (line) => lines.push(line) }), { code: 'ARCHIVE_CORRUPT' });
    assert.deepEqual(lines.filter((l) => !/^verifying/.test(l)), [], 'it failed while verifying, before anything else');
    assert.deepEqual(await checksum(b.db.url), before);
  });

  test('bin/pgmig: a damaged archive exits 2 either way; --verify-first fails before the load starts', async () => {
    const file = join(dir, 'flipped-cli.dump');
    const instance = await bulky(file);
    await damageBlock(file, 'examples');
    const mapping = writeMapping(dir, { [instance]: targetInstance }, 'cli.yaml');
    const before = await checksum(b.db.url);
    // Asynchronously: this process serves the resource controller the child asks.
    const run = (extra: string[]) => new Promise<{ status: number | null; stderr: string }>((resolve) => {
      execFile(process.execPath, ['bin/pgmig', '-f', '-s', file, '-r', base.resourceController, '-m', mapping, ...extra],
        { env: { ...process.env, ...base.env }, encoding: 'utf8' },
        (err, _stdout, stderr) => resolve({ status: err ? (typeof err.code === 'number' ? err.code : null) : 0, stderr }));
    });
    const streamed = await run([]);
    assert.equal(streamed.status, 2, streamed.stderr);
    assert.match(streamed.stderr, /loading into a staging schema[\s\S]*corrupt archive/);
    // The operator is told what the failure left, so need not wonder whether to restore the target.
    assert.match(streamed.stderr, /error \[ARCHIVE_CORRUPT\]: .*; the target is unchanged; the staging schema astore_restore_\S+ is dropped by the next pgmig run or backup\n/);
    const first = await run(['--verify-first']);
    assert.equal(first.status, 2, first.stderr);
    assert.match(first.stderr, /error \[ARCHIVE_CORRUPT\]: corrupt archive.*; the target is unchanged\n/);
    assert.doesNotMatch(first.stderr, /loading into a staging schema|listing the target instances/);
    assert.deepEqual(await checksum(b.db.url), before);
  });

  test('an archive replaced between the preflight and the load: ARCHIVE_CHANGED, the target untouched', async () => {
    const file = join(dir, 'replaced.dump');
    const other = join(dir, 'other.dump');
    const instance = await bulky(file);
    await bulky(other);
    base.log = (line) => { if (/listing the target instances/.test(line)) writeFileSync(file, readFileSync(other)); };
    try {
      await assertFailsUntouched(file, instance, 'ARCHIVE_CHANGED', /changed after it was checked/);
    } finally {
      delete base.log;
    }
  });

  test('damage in a table the restore does not load still fails it (every block is read)', async () => {
    const file = join(dir, 'flipped-jobs.dump');
    const instance = await bulky(file);
    await damageBlock(file, 'backup_jobs');
    await assertFailsUntouched(file, instance, 'ARCHIVE_CORRUPT', /backup_jobs/);
  });

  test('an archive cut inside its last block: ARCHIVE_TRUNCATED from the load, the target untouched', async () => {
    const file = join(dir, 'cut.dump');
    const instance = await bulky(file);
    const bytes = readFileSync(file);
    writeFileSync(file, bytes.subarray(0, bytes.length - 7));
    await assertFailsUntouched(file, instance, 'ARCHIVE_TRUNCATED', /archive ends at offset/);
  });

  /** Restores `file` expecting `code`; returns the log lines (to tell where it stopped). */
  async function failingLog(file: string, instance: string, code: string): Promise<string[]> {
    const lines: string[] = [];
    base.log = (line) => lines.push(line);
    try {
      await assertFailsUntouched(file, instance, code, /./);
    } finally {
      delete base.log;
    }
    return lines;
  }
  const onlyVerifying = (lines: string[]) => assert.deepEqual(lines.filter((l) => !/^verifying/.test(l)), [], `stopped while verifying: ${lines.join(' | ')}`);

  test('damage in a table the preflight reads (workspaces) is refused before the store is quiesced', async () => {
    const file = join(dir, 'flipped-ws.dump');
    const instance = await damagedArchive(file, key, async (c) => {
      await c.query(`insert into astore.workspaces (id, instance_id, name, language, description)
        select gen_random_uuid(), (select id from astore.instances), 'w' || g, 'en', repeat(md5(g::text), 20) from generate_series(1, 300) g`);
    });
    await damageBlock(file, 'workspaces');
    onlyVerifying(await failingLog(file, instance, 'ARCHIVE_CORRUPT'));
  });

  test('a file cut at a block boundary is refused by the preflight', async () => {
    const file = join(dir, 'cut-boundary.dump');
    const instance = await bulky(file);
    const reader = await openArchive(file);
    const last = Math.max(...reader.entries.filter((e) => e.hadDumper).map((e) => e.dataOffset));
    await reader.close();
    writeFileSync(file, readFileSync(file).subarray(0, last));
    onlyVerifying(await failingLog(file, instance, 'ARCHIVE_TRUNCATED'));
  });

  test('a source that is not a regular file is refused before anything is read', async () => {
    const fifo = join(dir, 'archive.fifo');
    execFileSync('mkfifo', [fifo]);
    for (const source of [fifo, '-']) {
      await assert.rejects(restore({ ...base, source, mapping: writeMapping(dir, {}, 'none.yaml') }),
        (err: { code?: string; message?: string; hint?: string }) => err.code === 'ARCHIVE_NOT_A_FILE' && /regular file/.test(err.message!) && /save the archive to a file/.test(err.hint!));
    }
  });

  test('an archive written to a pipe (no data offsets) is verified whole first: damage refused before the quiesce, an intact one restores', async () => {
    const damaged = join(dir, 'piped-flipped.dump');
    const damagedInstance = await bulky(damaged, pgDumpToPipe);
    await damageBlock(damaged, 'examples');
    onlyVerifying(await failingLog(damaged, damagedInstance, 'ARCHIVE_CORRUPT'));

    const intact = join(dir, 'piped.dump');
    const instance = await bulky(intact, pgDumpToPipe);
    const reader = await openArchive(intact);
    assert.ok(reader.entries.filter((e) => e.hadDumper).every((e) => e.offsetFlag !== OFFSET_SET), 'pg_dump left the offsets unset');
    await reader.close();
    const lines: string[] = [];
    const summary = await restore({ ...base, source: intact, mapping: writeMapping(dir, { [instance]: targetInstance }, 'piped.yaml'), log: (l) => lines.push(l) });
    assert.equal(summary.workspaces, 1);
    assert.ok(!lines.some((l) => /verified as it loads/.test(l)), 'the whole archive was read first');
    const n = await b.store.pool.query(`select count(*)::int as n from astore.examples`);
    assert.equal(n.rows[0].n, 30000);
  });

  test('a dead restore\'s flag blocks nothing, also when another backend now has its pid', async () => {
    const flagger = new pg.Client({ connectionString: b.db.url });
    await flagger.connect();
    try {
      await setMaintenance(flagger, 'restoring');
      assert.equal(await maintenanceMessage(b.store.pool), 'restoring', 'a live restore blocks writes');
      // As if the restore's backend had died and the OS had given its pid to this one since.
      await flagger.query(`update astore_control.maintenance set backend_start = backend_start - interval '1 hour'`);
      assert.equal(await maintenanceMessage(b.store.pool), undefined);
    } finally {
      await flagger.end();
    }
  });
});
