/**
 * `astore backups list --verify` is how an operator (or a monitoring cron job) checks the backups
 * it keeps; it exited 0 whatever it found, so a backup whose bytes no longer match its checksum was
 * only a word in a table. Like `astore archive verify`, it now exits 2 when a backup that was
 * complete (it has its sidecar) fails the check, naming it; the listing is printed either way. A
 * damaged sidecar fails it too (it was listed as a stranger's file without one).
 */
import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { defaultSettings, runBackupJob, sidecarPath } from '../../src/backup/index.ts';
import { openStore, type Store } from '../../src/store/index.ts';
import { runAstore } from '../support/cli.ts';
import { createTestDatabase, type TestDatabase } from '../support/pg.ts';

const root = mkdtempSync(join(tmpdir(), 'astore-bklist-'));
after(() => rmSync(root, { recursive: true, force: true }));

describe('astore backups list --verify', () => {
  let db: TestDatabase;
  let store: Store;
  let home: string;
  before(async () => {
    db = await createTestDatabase('bklist');
    home = mkdtempSync(join(root, 'home-'));
    process.env.ASTORE_HOME = home;
    store = await openStore({ env: { DATABASE_URL: db.url }, migrate: true });
  });
  after(async () => { await store.close(); await db.drop(); });

  it('exits 0 while every backup checks out, 2 once one does not, naming it', async () => {
    const dir = join(root, 'backups');
    const settings = { ...defaultSettings(), dir };
    const day = (n: number): Date => new Date(2026, 9, 1 + n, 23, 0, 0);
    const first = await runBackupJob({ pool: store.pool, connection: store.connection, settings, slot: day(0), now: () => day(0) });
    const second = await runBackupJob({ pool: store.pool, connection: store.connection, settings, slot: day(1), now: () => day(1) });
    assert.equal(first.status, 'succeeded');
    assert.equal(second.status, 'succeeded');
    // Every tenant's data: readable by this user alone (they were 0644 in a 0755 directory).
    assert.equal(statSync(first.file!).mode & 0o777, 0o600);
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    const env = { ASTORE_HOME: home };

    const ok = await runAstore(['backups', 'list', '--dir', dir, '--verify'], env);
    assert.equal(ok.code, 0, ok.output);

    // Bit rot in the older backup: same size, other bytes.
    const fd = openSync(first.file!, 'r+');
    writeSync(fd, Buffer.from('XXXX'), 0, 4, 200);
    closeSync(fd);
    const plain = await runAstore(['backups', 'list', '--dir', dir], env);
    assert.equal(plain.code, 0, plain.output);

    const bad = await runAstore(['backups', 'list', '--dir', dir, '--verify'], env);
    assert.equal(bad.code, 2, bad.output);
    assert.match(bad.stdout, /not a backup \(checksum-mismatch\)/);
    assert.match(bad.stderr, /error \[BACKUP_VERIFY_FAILED\]: 1 backup\(s\) in .* fail verification: store\.dump_20261001-230000 \(checksum-mismatch\)/);

    const json = await runAstore(['backups', 'list', '--dir', dir, '--verify', '--json'], env);
    assert.equal(json.code, 2, json.output);
    const rows = JSON.parse(json.stdout) as Array<{ name: string; status: string; verified: boolean }>;
    assert.deepEqual(rows.map((r) => [r.name, r.status, r.verified]), [
      ['store.dump_20261002-230000', 'good', true], ['store.dump_20261001-230000', 'checksum-mismatch', false],
    ]);

    // The newer backup's sidecar damaged: it was listed as "no sidecar", like a stranger's file,
    // and --verify passed over it.
    writeFileSync(sidecarPath(second.file!), '{"format":"astore-backup/1","name":');
    const sidecar = await runAstore(['backups', 'list', '--dir', dir, '--verify', '--json'], env);
    assert.equal(sidecar.code, 2, sidecar.output);
    assert.deepEqual((JSON.parse(sidecar.stdout) as Array<{ status: string }>).map((r) => r.status), ['bad-sidecar', 'checksum-mismatch']);
    assert.match(sidecar.stderr, /fail verification: store\.dump_20261002-230000 \(bad-sidecar\), store\.dump_20261001-230000 \(checksum-mismatch\)/);
    // A sidecar that is valid JSON but names another archive is no better.
    writeFileSync(sidecarPath(second.file!), readFileSync(sidecarPath(first.file!)));
    const other = await runAstore(['backups', 'list', '--dir', dir, '--json'], env);
    assert.equal(other.code, 0, other.output);
    assert.equal((JSON.parse(other.stdout) as Array<{ name: string; status: string }>).find((r) => r.name === 'store.dump_20261002-230000')?.status, 'bad-sidecar');
  });
});
