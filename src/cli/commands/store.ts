/** Store administration: migrate, db info, instances, tokens, encryption-key secret. */
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Command } from 'commander';
import {
  createInstance, createToken, deleteInstance, formatSecretYaml, isDirectory, listInstances, listTokens, readGivenSecretFile, readSecretFile, revokeToken, revokeUserTokens,
  SECRET_NAME, tokenIdOf,
  EncryptionKey,
} from '../../auth/index.ts';
import { formatPostgresYaml, readPostgresYaml } from '../../config/index.ts';
import { AppError } from '../../errors/index.ts';
import { maintenanceMessage } from '../../restore/index.ts';
import { createAtomic, makeStoreDir, openDatabase, recordedFingerprint, secretFilePath, STORE_SCHEMA, writeAtomic } from '../../store/index.ts';
import { printJson, printTable, withStore } from '../output.ts';

const pgOption = ['--postgres <file>', 'PostgreSQL connection from a postgres.yaml (default: ASTORE_POSTGRES or DATABASE_URL, else the embedded server)'] as const;

export function register(program: Command): void {
  program.command('migrate')
    .description('apply pending schema migrations')
    .option(...pgOption)
    .option('--json', 'machine-readable output')
    .action(async (o: { postgres?: string; json?: boolean }) => {
      await withStore({ postgres: o.postgres, migrate: true }, async (s) => {
        if (o.json) printJson({ release: s.release });
        else process.stdout.write(`schema at release ${s.release}\n`);
      });
    });

  const db = program.command('db').description('the store database');
  db.command('info')
    .description('print the connection in postgres.yaml form (for pgmig --target and psql)')
    .option(...pgOption)
    .option('--json', 'machine-readable output')
    .action(async (o: { postgres?: string; json?: boolean }) => {
      const d = await openDatabase({ postgres: o.postgres });
      try {
        const c = d.connection;
        // The store connects as su_username; a postgres.yaml's application role is printed back as given.
        const username = (o.postgres ? readPostgresYaml(o.postgres).username : undefined) ?? c.user;
        const yaml = { host: c.host, port: c.port, database: c.database, username, su_username: c.user, su_password: c.password };
        if (o.json) printJson({ ...yaml, embedded: Boolean(d.embedded), home: d.embedded?.home });
        else process.stdout.write(formatPostgresYaml(yaml));
      } finally {
        await d.close();
      }
    });

  const instances = program.command('instances').description('service instances');
  instances.command('create')
    .description('create a service instance; prints its id')
    .requiredOption('--name <name>', 'instance name')
    .requiredOption('--owner <user>', 'owning user (created if new)')
    .option(...pgOption)
    .option('--json', 'machine-readable output')
    .action(async (o: { name: string; owner: string; postgres?: string; json?: boolean }) => {
      await withStore({ postgres: o.postgres }, async (s) => {
        const i = await createInstance(s.pool, o.name, o.owner);
        if (o.json) printJson(i); else process.stdout.write(i.id + '\n');
      });
    });
  instances.command('list')
    .description('list service instances')
    .option(...pgOption)
    .option('--json', 'machine-readable output')
    .action(async (o: { postgres?: string; json?: boolean }) => {
      await withStore({ postgres: o.postgres }, async (s) => {
        const list = await listInstances(s.pool);
        if (o.json) printJson(list);
        else printTable(list.map((i) => ({ ...i, created: i.created.toISOString() })), ['id', 'name', 'owner', 'workspaces', 'created']);
      });
    });

  instances.command('delete <instanceId>')
    .description('delete a service instance (refused while it holds workspaces, unless --delete-workspaces)')
    .option('--delete-workspaces', 'also delete its workspaces, with their models and message logs (back them up first)')
    .option(...pgOption)
    .option('--json', 'machine-readable output')
    .action(async (instanceId: string, o: { deleteWorkspaces?: boolean; postgres?: string; json?: boolean }) => {
      await withStore({ postgres: o.postgres }, async (s) => {
        // A restore keeps the instances that exist when it swaps its data in (and its workspaces
        // may be mapped to this one): deleting one meanwhile would not last.
        const restoring = await maintenanceMessage(s.pool);
        if (restoring) {
          throw new AppError('WRITES_SUSPENDED', `a restore is running (${restoring}); nothing was deleted`, {
            hint: 'wait for pgmig to finish, then delete the instance', exitCode: 1,
          });
        }
        const d = await deleteInstance(s.pool, instanceId, { withWorkspaces: o.deleteWorkspaces === true });
        if (o.json) printJson(d);
        else process.stderr.write(`deleted instance ${d.id} (${d.name}, owner ${d.owner}) with ${d.workspaces} workspace(s)\n`);
      });
    });

  const tokens = program.command('tokens').description('bearer tokens');
  tokens.command('create')
    .description('create a bearer token for a user (printed once; only its hash is stored)')
    .requiredOption('--user <user>', 'user name (created if new)')
    .option(...pgOption)
    .option('--json', 'machine-readable output')
    .action(async (o: { user: string; postgres?: string; json?: boolean }) => {
      await withStore({ postgres: o.postgres }, async (s) => {
        const t = await createToken(s.pool, o.user);
        if (o.json) printJson(t);
        else process.stdout.write(`${t.token}\n`), process.stderr.write(`token id ${t.id} (use it to revoke); the token is not shown again\n`);
      });
    });
  tokens.command('list')
    .description('bearer tokens: id, user, created (the values are not stored; revoked ones with --all)')
    .option('--user <user>', 'only this user\'s tokens')
    .option('--all', 'revoked tokens too')
    .option(...pgOption)
    .option('--json', 'machine-readable output')
    .action(async (o: { user?: string; all?: boolean; postgres?: string; json?: boolean }) => {
      await withStore({ postgres: o.postgres }, async (s) => {
        const list = await listTokens(s.pool, { user: o.user, revoked: o.all === true });
        if (o.json) printJson(list);
        else printTable(list.map((t) => ({ ...t, created: t.created.toISOString(), revoked: t.revoked?.toISOString() ?? '' })), ['id', 'user', 'created', 'revoked']);
      });
    });
  tokens.command('revoke [tokenId]')
    .description('revoke a bearer token by its id, by its value read from stdin (--token-stdin: a leaked token whose id is lost), or all of a user\'s (--user)')
    .option('--token-stdin', 'read the token value from stdin instead of giving its id (kept out of the shell history)')
    .option('--user <user>', 'revoke every active token of this user')
    .option(...pgOption)
    .option('--json', 'machine-readable output: {"revoked": [ids]}')
    .action(async (tokenId: string | undefined, o: { tokenStdin?: boolean; user?: string; postgres?: string; json?: boolean }) => {
      if ([tokenId !== undefined, o.tokenStdin === true, o.user !== undefined].filter(Boolean).length !== 1) {
        throw new AppError('ARGUMENT_MISSING', 'give one of: a token id, --token-stdin or --user', { hint: 'astore tokens list shows the ids and users', exitCode: 2 });
      }
      const value = o.tokenStdin ? (await readStdin()).trim() : undefined;
      await withStore({ postgres: o.postgres }, async (s) => {
        let revoked: string[];
        if (o.user !== undefined) {
          revoked = await revokeUserTokens(s.pool, o.user);
        } else {
          const id = value === undefined ? tokenId! : await tokenIdOf(s.pool, value);
          await revokeToken(s.pool, id);
          revoked = [id];
        }
        if (o.json) printJson({ revoked });
        else if (revoked.length === 0) process.stderr.write(`user ${o.user} had no active tokens\n`);
        else for (const id of revoked) process.stderr.write(`revoked ${id}\n`);
      });
    });

  const secret = program.command('secret').description('the encryption-key secret (auth-encryption-secret.yaml)');
  secret.command('export')
    .description('write the encryption-key Secret YAML (back it up beside the data)')
    .option('-o, --output <file>', 'file to write (default: stdout)')
    .option('--name <name>', `the Secret's name (and app label), as the seeds name it: INSTANCE-auth-encryption`, SECRET_NAME)
    .option('--keep-other', 'when -o FILE holds another key, keep it as FILE.<fingerprint> and write this one (default: refuse)')
    .option(...pgOption)
    .option('--no-verify', 'skip checking the key against the database (when it cannot be reached)')
    .action(async (o: { output?: string; name: string; keepOther?: boolean; postgres?: string; verify: boolean }) => {
      const file = secretFilePath();
      const key = readSecretFile(file);
      if (!key) throw new AppError('KEY_MISSING', `no encryption key at ${file}`, { hint: 'start the store once (astore serve / astore migrate) to create it, or set ASTORE_ENCRYPTION_SECRET', exitCode: 5 });
      // A backed-up key that is not the data's key is only found out at restore time, too late.
      const recorded = o.verify ? await databaseFingerprint(o.postgres) : undefined;
      if (recorded && recorded !== key.fingerprint) {
        throw new AppError('KEY_MISMATCH', `the key in ${file} (${key.fingerprint}) is not the key the database's data is encrypted with (${recorded}); it would not restore this data`, {
          hint: 'point ASTORE_ENCRYPTION_SECRET (or ASTORE_HOME) at the store\'s key file, or run this where the store runs', exitCode: 5,
        });
      }
      const name = secretName(o.name);
      if (o.output) await exportTo(o.output, key, name, o.keepOther), process.stderr.write(`wrote ${o.output} (key ${key.fingerprint})\n`);
      else process.stdout.write(formatSecretYaml(key, name));
    });
  secret.command('generate')
    .description('write a new encryption-key Secret YAML, for a deployment whose pods read the key from a Secret (create it before their first start)')
    .requiredOption('-o, --output <file>', 'file to create (an existing one is never replaced)')
    .option('--name <name>', `the Secret's name (and app label), as the seeds name it: INSTANCE-auth-encryption`, SECRET_NAME)
    .action(async (o: { output: string; name: string }) => {
      // A store creates its own key on first start, in ASTORE_HOME; pods given the key as a mounted
      // Secret (astore k8s manifests) cannot, and without this the only way to a first key was a
      // throwaway store.
      const key = EncryptionKey.generate();
      const created = await createAtomic(o.output, formatSecretYaml(key, secretName(o.name)), 0o600).catch(unwritable(o.output));
      if (!created) {
        throw new AppError('KEY_FILE_EXISTS', `${o.output} exists; not replacing it with a new key`, {
          hint: 'it may hold the key some data is encrypted with: choose another -o file', exitCode: 5,
        });
      }
      process.stderr.write(`wrote ${o.output} (new key ${key.fingerprint}); kubectl apply -f it, and keep a copy beside the backups\n`);
    });
  secret.command('apply')
    .description("install another store's encryption-key Secret (before restoring its backup)")
    .requiredOption('-f, --file <file>', 'the Secret YAML')
    .option(...pgOption)
    .option('--no-verify', 'do not compare the key with the database (when it cannot be reached)')
    .action(async (o: { file: string; postgres?: string; verify: boolean }) => {
      const key = readGivenSecretFile(o.file);
      const target = secretFilePath();
      const current = readSecretFile(target);
      if (current?.fingerprint === key.fingerprint) {
        process.stderr.write(`key ${key.fingerprint} is already installed\n`);
        return;
      }
      if (isDirectory(target)) {
        throw new AppError('KEY_FILE_READ_ONLY', `the key is read from ${target}, a directory (a mounted Kubernetes Secret), which this command cannot replace`, {
          hint: `update the Secret itself (kubectl apply -f ${o.file}) and restart the pods that use it`, exitCode: 2,
        });
      }
      // The previous key is kept, never overwritten: data encrypted with it stays recoverable. It is
      // copied aside first and then replaced in one rename, so there is never a moment without a key file.
      let kept: string | undefined;
      // On a target that has never run (the first restore step) ASTORE_HOME does not exist yet.
      await makeStoreDir(dirname(target), `${dirname(target)} for the encryption key file`, 'set ASTORE_HOME (or ASTORE_ENCRYPTION_SECRET, the key file\'s path) to a writable place');
      if (current) {
        kept = `${target}.${new Date().toISOString().replace(/[:.]/g, '')}.bak`;
        await writeAtomic(kept, readFileSync(target), 0o600);
        process.stderr.write(`previous key ${current.fingerprint} kept as ${kept}\n`);
      }
      await writeAtomic(target, formatSecretYaml(key), 0o600);
      process.stderr.write(`installed key ${key.fingerprint} at ${target}\n`);
      // Installing a key ahead of its data is the normal restore order, so a mismatch is not refused;
      // but the operator must know the store will not start until that data is restored.
      const recorded = o.verify ? await databaseFingerprint(o.postgres) : undefined;
      if (recorded && recorded !== key.fingerprint) {
        // pgmig needs this store's serve running (its resource controller) and the target instances
        // and tokens, and with this key installed neither serve nor those commands start: they must
        // be running / made first, under the key the database has (a running serve keeps it).
        process.stderr.write([
          `note: this database was set up with key ${recorded}; until a backup written under the installed key is restored`,
          'here (pgmig), astore serve and the instances and tokens commands refuse to start with it. pgmig needs this store\'s',
          'astore serve running, and its instances and tokens: if they are not there yet, put the previous key back' + (kept ? ` (astore secret apply -f ${kept})` : ''),
          'first, start astore serve, create them, then apply this key again and run pgmig. A running astore serve keeps its',
          'old key until restarted: restart it after pgmig.',
        ].join('\n') + '\n');
      }
    });
}

/**
 * Writes the key's Secret to `file`, refusing to replace one holding another key: an operator
 * exporting into the folder where the source store's backed-up key lies would overwrite what may
 * be the only copy of the key that store's backups can be read with.
 */
/** A Secret name Kubernetes accepts (a DNS-1123 subdomain), or a clear error before anything is written. */
function secretName(name: string): string {
  if (name.length <= 253 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(name)) return name;
  throw new AppError('ARGUMENT_INVALID', `--name ${JSON.stringify(name)} is not a Kubernetes Secret name`, {
    hint: "use lower-case letters, digits, '-' and '.', e.g. --name wa-auth-encryption", exitCode: 2,
  });
}

/**
 * With `keepOther`, another key in `file` is first copied to a name of its own (its fingerprint in
 * it) and then replaced: the backup CronJob exports the key beside the data on every run, and after
 * the store's key changed (a restore of another store's data) a refusal failed every run, while
 * the older backups still need the old key.
 */
async function exportTo(file: string, key: EncryptionKey, name: string, keepOther = false): Promise<void> {
  const existing = keyIn(file);
  if (existing && existing.fingerprint !== key.fingerprint) {
    if (!keepOther) {
      throw new AppError('KEY_FILE_EXISTS', `${file} holds another encryption key (${existing.fingerprint}); not replacing it with this store's key (${key.fingerprint})`, {
        hint: 'that key may be the only copy of one other data is encrypted with: choose another -o file, move that one aside first, or pass --keep-other to have it kept under its fingerprint', exitCode: 5,
      });
    }
    const kept = `${file}.${existing.fingerprint.replace(/^sha256:/, '')}`;
    // Durable before the file is replaced (writeAtomic fsyncs): the old key is never in neither place.
    await writeAtomic(kept, readFileSync(file), 0o600).catch(unwritable(kept));
    process.stderr.write(`${file} held key ${existing.fingerprint}: kept as ${kept}\n`);
  }
  await writeAtomic(file, formatSecretYaml(key, name), 0o600).catch(unwritable(file));
}

/** A key file that could not be written, as an error code instead of a stack trace. */
function unwritable(file: string): (err: NodeJS.ErrnoException) => never {
  return (err) => {
    throw new AppError('KEY_FILE_UNWRITABLE', `cannot write ${file}: ${err.code ?? err.message}`, {
      hint: 'pass -o a file in a folder that exists and that you may write to', exitCode: 2, cause: err,
    });
  };
}

/**
 * The key in `file`, undefined when there is no file. A file that holds something else is refused
 * rather than overwritten: it may be the operator's own, or a key file damaged in a way worth seeing.
 */
function keyIn(file: string): EncryptionKey | undefined {
  try {
    return readSecretFile(file);
  } catch (err) {
    throw new AppError('KEY_FILE_EXISTS', `${file} exists and is not an encryption-key Secret (${(err as Error).message}); not replacing it`, {
      hint: 'choose another -o file, or move that one aside first', exitCode: 5, cause: err,
    });
  }
}

async function readStdin(): Promise<string> {
  // On a terminal the wait for end of input would look like a hang.
  if (process.stdin.isTTY) process.stderr.write('paste the token, then press Enter and Ctrl-D\n');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** The key fingerprint the store's database records, if it has one. */
async function databaseFingerprint(postgres: string | undefined): Promise<string | undefined> {
  const db = await openDatabase({ postgres });
  try {
    return await recordedFingerprint(db.pool, STORE_SCHEMA);
  } finally {
    await db.close();
  }
}
