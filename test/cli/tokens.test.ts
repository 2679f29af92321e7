/**
 * Finding and revoking tokens without psql. The token id, needed to revoke, is printed once at
 * creation (on stderr); an operator who had lost it could not revoke a leaked token. `tokens list`
 * shows the ids, and `tokens revoke --token-stdin` revokes by the leaked value itself.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { openStore } from '../../src/store/index.ts';
import { runAstore } from '../support/cli.ts';
import { createTestDatabase, type TestDatabase } from '../support/pg.ts';

/** astore with `input` on stdin. */
function withStdin(args: string[], env: NodeJS.ProcessEnv, input: string): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(join(import.meta.dirname, '..', '..', 'bin', 'astore'), args, { env: { ...process.env, ...env }, stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
  child.stdin.end(input);
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stderr })));
}

describe('astore tokens list / revoke', () => {
  let db: TestDatabase;
  let env: NodeJS.ProcessEnv;
  const home = mkdtempSync(join(tmpdir(), 'astore-tokens-'));
  const list = async (...args: string[]): Promise<Array<{ id: string; user: string; revoked: string | null }>> => {
    const r = await runAstore(['tokens', 'list', '--json', ...args], env);
    assert.equal(r.code, 0, r.output);
    return JSON.parse(r.stdout);
  };
  const create = async (user: string): Promise<{ id: string; token: string }> => {
    const r = await runAstore(['tokens', 'create', '--user', user, '--json'], env);
    assert.equal(r.code, 0, r.output);
    return JSON.parse(r.stdout);
  };

  before(async () => {
    db = await createTestDatabase('tokens');
    process.env.ASTORE_HOME = home;
    const s = await openStore({ env: { DATABASE_URL: db.url }, migrate: true });
    await s.close();
    env = { DATABASE_URL: db.url, ASTORE_HOME: home };
  });
  after(async () => { await db.drop(); rmSync(home, { recursive: true, force: true }); });

  it('lists the active tokens with their users (never the values); revokes a leaked one by its value', async () => {
    const alice = await create('alice');
    const bob = await create('bob');
    const all = await list();
    assert.deepEqual(all.map((t) => [t.id, t.user]).sort(), [[alice.id, 'alice'], [bob.id, 'bob']].sort());
    assert.doesNotMatch(JSON.stringify(all), new RegExp(alice.token.slice(4, 20)));
    assert.deepEqual((await list('--user', 'bob')).map((t) => t.id), [bob.id]);

    const r = await withStdin(['tokens', 'revoke', '--token-stdin'], env, `${alice.token}\n`);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`revoked ${alice.id}`));
    assert.deepEqual((await list()).map((t) => t.id), [bob.id]);
    const withRevoked = await list('--all');
    assert.ok(withRevoked.find((t) => t.id === alice.id)?.revoked, 'a revoked token is listed with --all, with its time');
  });

  it('--user revokes every active token of that user, and no other user\'s', async () => {
    const e1 = await create('erin');
    const e2 = await create('erin');
    const frank = await create('frank');
    const r = await runAstore(['tokens', 'revoke', '--user', 'erin', '--json'], env);
    assert.equal(r.code, 0, r.output);
    assert.deepEqual(JSON.parse(r.stdout), { revoked: [e1.id, e2.id].sort() });
    const active = (await list()).map((t) => t.id);
    assert.ok(active.includes(frank.id) && !active.includes(e1.id) && !active.includes(e2.id), JSON.stringify(active));
    const none = await runAstore(['tokens', 'revoke', '--user', 'erin'], env);
    assert.equal(none.code, 0, none.output);
    assert.match(none.stderr, /user erin had no active tokens/);
    const unknown = await runAstore(['tokens', 'revoke', '--user', 'nobody'], env);
    assert.equal(unknown.code, 2, unknown.output);
    assert.match(unknown.stderr, /error \[USER_NOT_FOUND\]: no user named "nobody"/);
    const both = await runAstore(['tokens', 'revoke', frank.id, '--user', 'frank'], env);
    assert.equal(both.code, 2, both.output);
  });

  it('an unknown value, or neither or both of id and --token-stdin, is refused with exit 2', async () => {
    const unknown = await withStdin(['tokens', 'revoke', '--token-stdin'], env, 'ast_not-a-token');
    assert.equal(unknown.code, 2, unknown.stderr);
    assert.match(unknown.stderr, /error \[TOKEN_NOT_FOUND\]: no active token has that value/);
    const neither = await runAstore(['tokens', 'revoke'], env);
    assert.equal(neither.code, 2, neither.output);
    assert.match(neither.stderr, /ARGUMENT_MISSING.*give one of: a token id, --token-stdin or --user/);
    const both = await withStdin(['tokens', 'revoke', '00000000-0000-0000-0000-000000000000', '--token-stdin'], env, 'x');
    assert.equal(both.code, 2, both.stderr);
  });
});
