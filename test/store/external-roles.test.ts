/**
 * An external PostgreSQL set up as a DBA would: the store's database reached as an ordinary role.
 * A role that may not create the store schema, or one that is not the role the schema belongs to
 * (migrated through postgres.yaml's su_username, then run as the application role), gets
 * PG_PERMISSION naming the role, the database (and the schema's owner) and what to change; it used
 * to be a bare "permission denied" stack trace with exit code 1; a role that may not connect is
 * told which GRANT it lacks. `db info --postgres` prints the
 * file's application role back as `username` (it printed the superuser there).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runAstore } from '../support/cli.ts';
import { adminUrl, asRole, sqlAt as sql, withDatabase } from '../support/pg.ts';
import { cleanUp } from '../support/cleanup.ts';

describe('the store as an ordinary role on an external server', () => {
  const suffix = randomBytes(4).toString('hex');
  const role = `store_${suffix}`;
  const database = `ext_${suffix}`;
  let admin: string;
  let dir: string;
  let roleUrl: string;

  before(async () => {
    admin = await adminUrl();
    dir = mkdtempSync(join(tmpdir(), 'astore-ext-'));
    await sql(admin, `create role ${role} login password 'pw'`);
    // CONNECT (PUBLIC has it by default) but not CREATE: the database belongs to the admin.
    await sql(admin, `create database ${database}`);
    roleUrl = asRole(withDatabase(admin, database), role, 'pw');
  });
  after(() => cleanUp(
    () => sql(admin, `drop database if exists ${database} with (force)`),
    () => sql(admin, `drop role if exists ${role}`),
    () => rmSync(dir, { recursive: true, force: true }),
  ));

  test('a role without CREATE on the database: migrate says so and how to grant it', { timeout: 60_000 }, async () => {
    const r = await runAstore(['migrate'], { ASTORE_HOME: join(dir, 'a'), DATABASE_URL: roleUrl });
    assert.equal(r.code, 3, r.output);
    assert.match(r.stderr, new RegExp(`error \\[PG_PERMISSION\\]: role ${role} may not create the store schema astore in database ${database}`));
    assert.match(r.stderr, new RegExp(`hint: .*GRANT CREATE ON DATABASE "${database}" TO "${role}"`));
    assert.doesNotMatch(r.stderr, /at .*node_modules/, 'no stack trace');
  });

  test('a schema the superuser created: the store run as the application role names its owner', { timeout: 60_000 }, async () => {
    const home = join(dir, 'b');
    const su = await runAstore(['migrate'], { ASTORE_HOME: home, DATABASE_URL: withDatabase(admin, database) });
    assert.equal(su.code, 0, su.output);
    const owner = new URL(admin).username;
    // db info through a postgres.yaml that names the application role beside the superuser keeps it.
    const yamlFile = join(dir, 'postgres.yaml');
    const u = new URL(admin);
    writeFileSync(yamlFile, `host: ${u.hostname}\nport: ${u.port}\ndatabase: ${database}\nusername: ${role}\nsu_username: ${u.username}\nsu_password: ${decodeURIComponent(u.password)}\n`);
    const info = await runAstore(['db', 'info', '--postgres', yamlFile], { ASTORE_HOME: home, DATABASE_URL: '' });
    assert.equal(info.code, 0, info.output);
    assert.match(info.stdout, new RegExp(`^username: ${role}$`, 'm'));
    assert.match(info.stdout, new RegExp(`^su_username: ${u.username}$`, 'm'));
    for (const args of [['instances', 'list'], ['migrate']]) {
      const r = await runAstore(args, { ASTORE_HOME: home, DATABASE_URL: roleUrl });
      assert.equal(r.code, 3, r.output);
      assert.match(r.stderr, new RegExp(`error \\[PG_PERMISSION\\]: the store schema astore in database ${database} belongs to role ${owner}, and role ${role} may not use it`));
      assert.match(r.stderr, new RegExp(`hint: connect as ${owner} .*ALTER SCHEMA astore OWNER TO "${role}"`));
    }
  });

  test('a role that may not connect (PUBLIC\'s CONNECT revoked): the hint names the GRANT CONNECT', { timeout: 60_000 }, async () => {
    await sql(admin, `revoke connect on database ${database} from public`);
    try {
      const r = await runAstore(['migrate'], { ASTORE_HOME: join(dir, 'c'), DATABASE_URL: roleUrl });
      assert.equal(r.code, 3, r.output);
      assert.match(r.stderr, new RegExp(`error \\[PG_PERMISSION\\]: permission denied for ${role}@`));
      assert.match(r.stderr, new RegExp(`hint: have the DBA run GRANT CONNECT ON DATABASE "${database}" TO "${role}"`));
    } finally {
      await sql(admin, `grant connect on database ${database} to public`);
    }
  });
});
