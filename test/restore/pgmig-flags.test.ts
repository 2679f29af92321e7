/**
 * pgmig's connection-test and version flags, as the seeds use them before a restore:
 * `--testRCConnection` lists the target instances the access tokens reach (or says why it cannot),
 * and `-v` names the tool and the schema release it restores into.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CURRENT_RELEASE, freePort } from '../../src/store/index.ts';
import { startTestStore, type TestStore } from '../support/store.ts';
import { writeRc } from './helpers.ts';

/** Asynchronously: the API pgmig calls is served by this process. */
const pgmig = (args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> => new Promise((resolve) => {
  execFile(process.execPath, ['bin/pgmig', ...args], { encoding: 'utf8', timeout: 60_000 }, (err, stdout, stderr) => {
    resolve({ status: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr });
  });
});

describe('pgmig --testRCConnection and -v', () => {
  let s: TestStore;
  const dir = mkdtempSync(join(tmpdir(), 'astore-pgmigflags-'));
  let instances: Array<{ instanceId: string; token: string }>;
  before(async () => {
    s = await startTestStore();
    instances = [await s.tenant('xavier', 'x-one'), await s.tenant('xavier', 'x-two'), await s.tenant('yvonne', 'y-one')];
  });
  after(async () => { await s.close(); rmSync(dir, { recursive: true, force: true }); });

  it('lists every instance the tokens reach, once, and exits 0', async () => {
    const rc = writeRc(mkdtempSync(join(dir, 'ok-')), s.url, [instances[0]!.token, instances[2]!.token]);
    const r = await pgmig(['--testRCConnection', '-r', rc, '--json']);
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { ok: boolean; instances: Array<{ id: string; name: string }> };
    assert.equal(out.ok, true);
    assert.deepEqual(out.instances.map((i) => i.name).sort(), ['x-one', 'x-two', 'y-one']);
    assert.deepEqual(new Set(out.instances.map((i) => i.id)), new Set(instances.map((i) => i.instanceId.toLowerCase())));
    const text = await pgmig(['--testRCConnection', '--resourceController', rc]);
    assert.equal(text.status, 0, text.stderr);
    assert.match(text.stdout, /^resource controller OK: 3 instance\(s\)$/m);
  });

  it('a rejected token, nothing listening, or no -r: the reason and a non-zero exit', async () => {
    const bad = writeRc(mkdtempSync(join(dir, 'bad-')), s.url, ['not-a-token']);
    const rejected = await pgmig(['--testRCConnection', '-r', bad]);
    assert.equal(rejected.status, 3, rejected.stderr);
    assert.match(rejected.stderr, /error \[RC_TOKEN_REJECTED\]: the resource controller rejected access token 1 of 1 \(HTTP 401\)/);
    const nobody = writeRc(mkdtempSync(join(dir, 'down-')), `http://127.0.0.1:${await freePort()}`, [instances[0]!.token]);
    const refused = await pgmig(['--testRCConnection', '-r', nobody]);
    assert.equal(refused.status, 3, refused.stderr);
    assert.match(refused.stderr, /error \[RC_REFUSED\]/);
    const missing = await pgmig(['--testRCConnection']);
    assert.equal(missing.status, 2, missing.stderr);
    assert.match(missing.stderr, /error \[ARGUMENT_MISSING\]: -r\/--resourceController is required/);
  });

  it('-v and --version name pgmig and the release it restores into', async () => {
    for (const flag of ['-v', '--version']) {
      const r = await pgmig([flag]);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`^pgmig ${CURRENT_RELEASE.replace(/\./g, '\\.')} \\(assistant-store \\d+\\.\\d+\\.\\d+\\)\\n$`));
    }
  });
});
