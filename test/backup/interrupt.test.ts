/**
 * `astore backup -o FILE` interrupted with Ctrl-C (SIGINT) or SIGTERM: the temporary file holding
 * the part written so far is removed and the exit code says which signal it was. Before, Node's
 * default handling ended the process at once and left the hidden `.FILE.partial-PID-RAND` behind,
 * as large as the dump had got, which nothing ever removes outside the scheduled backup directory.
 * `astore backup-job` does the same (its next run would, but the disk may be needed before then).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Store } from '../../src/store/index.ts';
import type { TestDatabase } from '../support/pg.ts';
import { slowToDumpStore, waitFor } from './helpers.ts';

const root = mkdtempSync(join(tmpdir(), 'astore-intr-'));
after(() => rmSync(root, { recursive: true, force: true }));

describe('astore backup -o FILE interrupted', () => {
  let db: TestDatabase;
  let store: Store;
  let home: string;
  before(async () => {
    ({ db, store, home } = await slowToDumpStore('bkintr', root));
  });
  after(async () => { await store.close(); await db.drop(); });

  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    it(`${signal}: exit ${code}, no partial file left, and the message says nothing was written`, async () => {
      const dir = join(root, signal);
      mkdirSync(dir);
      const out = join(dir, 'store.dump');
      const child = spawn('bin/astore', ['backup', '-o', out], {
        env: { ...process.env, DATABASE_URL: db.url, ASTORE_HOME: home }, stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
      const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
      await waitFor(() => readdirSync(dir).some((n) => n.includes('.partial-')), 30_000);
      await new Promise((r) => setTimeout(r, 200));
      child.kill(signal);
      const exitCode = await exited;
      assert.equal(exitCode, code, stderr);
      assert.match(stderr, new RegExp(`interrupted \\(${signal}\\): no backup was written to .*store\\.dump; removed the partial file`));
      assert.equal(existsSync(out), false);
      assert.deepEqual(readdirSync(dir), [], stderr);
    });
  }

  it('backup-job: SIGTERM (a Kubernetes Job deleted) removes the partial file too', async () => {
    const dir = join(root, 'job');
    const child = spawn('bin/astore', ['backup-job'], {
      env: { ...process.env, DATABASE_URL: db.url, ASTORE_HOME: home, STORE_BACKUP_DIR: dir }, stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    await waitFor(() => existsSync(dir) && readdirSync(dir).some((n) => n.includes('.partial-')), 30_000);
    await new Promise((r) => setTimeout(r, 200));
    child.kill('SIGTERM');
    assert.equal(await exited, 143, stderr);
    assert.match(stderr, /interrupted \(SIGTERM\): this run wrote no backup/);
    assert.deepEqual(readdirSync(dir), [], stderr);
  });
});
