/**
 * Two processes opening a fresh ASTORE_HOME at once (`npm start` and a command in another shell,
 * two pods on one volume): each wrote its own password into postgres.yaml and ran initdb on the
 * same folder, and one failed (EMBEDDED_PG_INIT); the two `create database` raced too. The home's
 * start-up lock now lets one set up and start the server while the other waits and attaches.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../../src/store/index.ts';
import { stopServerIn } from '../support/pg.ts';

test('two first opens of one home at once both succeed, on one server with one password', { timeout: 180_000 }, async (t) => {
  const home = mkdtempSync(join(tmpdir(), 'astore-firstrun-'));
  t.after(async () => { await stopServerIn(join(home, 'pg')); rmSync(home, { recursive: true, force: true }); });
  const env = { ASTORE_HOME: home };
  const opened = await Promise.allSettled([openDatabase({ env }), openDatabase({ env })]);
  const dbs = opened.map((r) => (r.status === 'fulfilled' ? r.value : assert.fail(`an open failed: ${(r.reason as Error).message}`)));
  try {
    assert.equal(dbs[0]!.connection.port, dbs[1]!.connection.port);
    assert.equal(dbs[0]!.connection.password, dbs[1]!.connection.password);
    assert.match(readFileSync(join(home, 'postgres.yaml'), 'utf8'), new RegExp(`su_password: ${dbs[0]!.connection.password}`));
    for (const db of dbs) assert.equal((await db.pool.query<{ n: number }>('select 1 as n')).rows[0]!.n, 1);
    assert.equal(dbs.filter((db) => db.embedded?.cluster.owned).length, 1, 'one of them started the server, the other attached');
  } finally {
    for (const db of dbs) await db.close();
  }
  assert.equal(existsSync(join(home, '.astore-start.lock')), false, 'the lock is released');
});

test('a lock left by a process that died is taken over', { timeout: 180_000 }, async (t) => {
  const home = mkdtempSync(join(tmpdir(), 'astore-firstrun-'));
  t.after(async () => { await stopServerIn(join(home, 'pg')); rmSync(home, { recursive: true, force: true }); });
  // The pid of a process that has exited.
  const child = spawn(process.execPath, ['-e', '0']);
  const pid = child.pid!;
  await new Promise((r) => child.once('exit', r));
  writeFileSync(join(home, '.astore-start.lock'), `${(await import('node:os')).hostname()} ${pid}\n`);
  const db = await openDatabase({ env: { ASTORE_HOME: home } });
  await db.close();
  assert.equal(existsSync(join(home, '.astore-start.lock')), false);
});
