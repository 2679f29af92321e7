/**
 * `astore backup -o PATH` where PATH is not a regular file. The backup was written to a temporary
 * file renamed over PATH, whatever it was: `-o /dev/null` run as root replaced the machine's
 * /dev/null with a root-only regular file (every other program writing to it then failed), a
 * named pipe stopped being one, and a symbolic link was replaced instead of its target written.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { constants, lstatSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openStore, type Store } from '../../src/store/index.ts';
import { runAstore } from '../support/cli.ts';
import { createTestDatabase, type TestDatabase } from '../support/pg.ts';

const root = mkdtempSync(join(tmpdir(), 'astore-target-'));
after(() => rmSync(root, { recursive: true, force: true }));

/** The custom-format archive's magic, as pg_restore checks it. */
const isArchive = (bytes: Buffer): boolean => bytes.subarray(0, 5).toString('latin1') === 'PGDMP';

describe('astore backup -o onto a link, a named pipe or a device', () => {
  let db: TestDatabase;
  let store: Store;
  let env: NodeJS.ProcessEnv;
  before(async () => {
    db = await createTestDatabase('bktarget');
    env = { ASTORE_HOME: mkdtempSync(join(root, 'home-')), DATABASE_URL: db.url };
    store = await openStore({ env, migrate: true });
  });
  after(async () => { await store.close(); await db.drop(); });

  it('a symbolic link stays a link, and the file it names receives the backup', async () => {
    const dir = mkdtempSync(join(root, 'link-'));
    mkdirSync(join(dir, 'real'));
    writeFileSync(join(dir, 'real', 'store.dump'), 'an older backup');
    symlinkSync(join('real', 'store.dump'), join(dir, 'latest.dump'));
    const r = await runAstore(['backup', '-o', join(dir, 'latest.dump')], env);
    assert.equal(r.code, 0, r.output);
    assert.ok(lstatSync(join(dir, 'latest.dump')).isSymbolicLink(), 'the link is still a link');
    assert.ok(isArchive(readFileSync(join(dir, 'real', 'store.dump'))), 'its target holds the backup');
    assert.deepEqual(readdirSync(dir).sort(), ['latest.dump', 'real'], 'nothing else left beside it');
    assert.deepEqual(readdirSync(join(dir, 'real')), ['store.dump'], 'nor beside its target');
  });

  it('a dangling symbolic link: the file it names is created', async () => {
    const dir = mkdtempSync(join(root, 'dangling-'));
    symlinkSync('made-by-backup.dump', join(dir, 'next.dump'));
    const r = await runAstore(['backup', '-o', join(dir, 'next.dump')], env);
    assert.equal(r.code, 0, r.output);
    assert.ok(lstatSync(join(dir, 'next.dump')).isSymbolicLink());
    assert.ok(isArchive(readFileSync(join(dir, 'made-by-backup.dump'))));
  });

  it('a named pipe stays a pipe, and its reader gets the whole backup', { timeout: 60_000 }, async () => {
    const dir = mkdtempSync(join(root, 'fifo-'));
    const fifo = join(dir, 'backup.pipe');
    execFileSync('mkfifo', [fifo]);
    // Opened read-write, the reader's open does not wait for a writer, and never blocks the test
    // (the old code renamed a file over the pipe: no writer ever came).
    const reader = new Socket({ fd: openSync(fifo, constants.O_RDWR), readable: true, writable: false });
    const chunks: Buffer[] = [];
    let received = 0;
    reader.on('data', (c: Buffer) => { chunks.push(c); received += c.length; });
    try {
      const r = await runAstore(['backup', '-o', fifo, '--json'], env);
      assert.equal(r.code, 0, r.output);
      const summary = JSON.parse(r.stdout) as { file: string; bytes: number; sha256: string };
      for (const deadline = Date.now() + 5_000; received < summary.bytes && Date.now() < deadline;) await new Promise((res) => setTimeout(res, 20));
      assert.ok(lstatSync(fifo).isFIFO(), 'still a named pipe');
      assert.equal(received, summary.bytes, 'the reader got all of it');
      assert.ok(isArchive(Buffer.concat(chunks)), 'an archive');
      assert.equal(summary.file, fifo);
      assert.match(summary.sha256, /^[0-9a-f]{64}$/);
      assert.deepEqual(readdirSync(dir), ['backup.pipe'], 'no temporary file beside it');
    } finally {
      reader.destroy();
    }
  });

  it('a character device stays a device (a second /dev/null made for the test)', { skip: process.getuid?.() !== 0 && 'only root can make a device node' }, async () => {
    const dir = mkdtempSync(join(root, 'dev-'));
    const device = join(dir, 'null');
    execFileSync('mknod', ['-m', '666', device, 'c', '1', '3']);
    const r = await runAstore(['backup', '-o', device], env);
    assert.equal(r.code, 0, r.output);
    const st = lstatSync(device);
    assert.ok(st.isCharacterDevice(), 'still a character device');
    assert.equal(st.mode & 0o777, 0o666, 'with its mode');
    assert.deepEqual(readdirSync(dir), ['null']);
  });
});
