/** `astore restore`, which `pgmig` runs: the seeds' restore tool, with the seeds' flags. */
import { basename } from 'node:path';
import { Help, type Command } from 'commander';
import { PACKAGE_VERSION } from '../../config/index.ts';
import { AppError, isAppError } from '../../errors/index.ts';
import { listTargetInstances, readResourceControllerYaml, restore, type ProgressFn, type RestorePhase } from '../../restore/index.ts';
import { CURRENT_RELEASE, openDatabase } from '../../store/index.ts';
import { exitStoppingOwnServer } from '../interrupt.ts';
import { humanBytes, printJson } from '../output.ts';

interface Options {
  force?: boolean; source?: string; resourceController?: string; target?: string; mapping?: string;
  testRCConnection?: boolean; testPGConnection?: boolean; json?: boolean; verifyFirst?: boolean;
}

const EXIT_CODES = `
Exit codes:
  0  restored (or the connection test passed)
  1  unexpected internal error
  2  bad input: archive damaged or not a store backup, config file, mapping, instance count, no terminal
  3  connection failed: PostgreSQL or resource controller (DNS, refused, TLS, authentication, permission)
  4  schema: unsupported upgrade path, or the target store is not at the current release
  5  encryption key: missing, or not the key the backup was written with
  6  target refused: it holds data (use -f), or another restore is running
  7  the load failed; the target was left unchanged
  8  aborted at the mapping prompt (Ctrl-C, Ctrl-D); nothing was changed
  130, 143  interrupted by SIGINT, SIGTERM; the target was left unchanged unless the swap had begun (the message says)
`;

/** bin/pgmig runs this command; its help and version then name pgmig, as the seeds' tool. */
const AS_PGMIG = basename(process.argv[1] ?? '') === 'pgmig';

/** What a restore that ends in `phase` (undefined: before the load) leaves in the target. */
function targetState(phase: RestorePhase | undefined): string {
  return phase === undefined ? 'the target is unchanged'
    : phase.step === 'load' ? `the target is unchanged; the staging schema ${phase.staging} is dropped by the next pgmig run or backup`
      : 'the swap (one transaction) had begun: the target holds either its previous data or all of the restored data; run pgmig again to be sure of the latter';
}

/**
 * Follows the restore's phase, so that an interruption or a failure can say what it left.
 * SIGINT/SIGTERM end the process with one line saying so. Nothing is cleaned up here beyond
 * stopping an embedded server this command started: exiting (or that server's shutdown) closes
 * the connections, so PostgreSQL rolls back whatever was under way and the maintenance flag,
 * which names the restoring backend, stops blocking writes; only the staging schema outlives the
 * process, and the next pgmig run or backup drops it.
 */
function trackPhase(): { onPhase: (phase: RestorePhase) => void; state: () => string } {
  let phase: RestorePhase | undefined;
  const onSignal = (signal: NodeJS.Signals, code: number): void => {
    process.stderr.write(`${process.stderr.isTTY ? '\n' : ''}interrupted (${signal}): ${targetState(phase)}\n`);
    exitStoppingOwnServer(code);
  };
  process.once('SIGINT', () => onSignal('SIGINT', 130));
  process.once('SIGTERM', () => onSignal('SIGTERM', 143));
  return { onPhase: (p) => { phase = p; }, state: () => targetState(phase) };
}

/**
 * A failed restore's error, saying what it left in the target (most say nothing of it, e.g. a
 * corrupt archive found while loading), so the operator need not wonder whether to restore the
 * target's own backup. Told by the code, not the message: an abort at a prompt says it already.
 */
function withTargetState(err: unknown, state: string): unknown {
  if (!isAppError(err) || err.code === 'RESTORE_ABORTED') return err;
  return new AppError(err.code, `${err.message}; ${state}`, {
    hint: err.hint, exitCode: err.exitCode, status: err.status, details: err.details, cause: err,
  });
}

function progressBar(): ProgressFn | undefined {
  if (!process.stderr.isTTY) return undefined;
  let last = 0;
  return (p) => {
    const now = Date.now();
    if (now - last < 100 && p.bytes < p.totalBytes) return;
    last = now;
    const frac = p.totalBytes > 0 ? Math.min(1, p.bytes / p.totalBytes) : 0;
    const width = 30;
    const bar = '#'.repeat(Math.round(frac * width)).padEnd(width, '.');
    process.stderr.write(`\r${p.phase.padEnd(6)} [${bar}] ${(p.bytes / 1048576).toFixed(1)}/${(p.totalBytes / 1048576).toFixed(1)} MB  ${p.rows} rows `);
    if (p.bytes >= p.totalBytes) process.stderr.write('\n');
  };
}

function required(value: string | undefined, flag: string): string {
  if (!value) throw new AppError('ARGUMENT_MISSING', `${flag} is required`, { hint: 'see pgmig --help', exitCode: 2 });
  return value;
}

export function register(program: Command): void {
  const defaultHelp = new Help();
  program.command('restore')
    .description('restore a backup into this store, mapping backed-up instances to target instances (the seeds\' pgmig)')
    .version(`${AS_PGMIG ? 'pgmig' : 'astore restore'} ${CURRENT_RELEASE} (assistant-store ${PACKAGE_VERSION})`, '-v, --version', 'Get build version')
    .configureHelp({ commandUsage: (cmd) => (AS_PGMIG ? `pgmig ${cmd.usage()}` : defaultHelp.commandUsage(cmd)) })
    .option('-f, --force', 'Erase data if present in the target Store (without it: asked on a terminal, refused otherwise)')
    .option('-s, --source <file>', 'Backup file name (astore backup or pg_dump -Fc archive)')
    .option('-r, --resourceController <file>', 'Resource Controller configuration file name (accessTokens, host, port)')
    .option('-t, --target <file>', 'Target PostgreSQL server configuration file name (postgres.yaml; default ASTORE_POSTGRES or DATABASE_URL, else the embedded server)')
    .option('-m, --mapping <file>', 'Service instance-mapping configuration file name (optional; written as enteredMapping.yaml when prompted)')
    .option('--testRCConnection', 'Test the connection for Resource Controller, then exit')
    .option('--testPGConnection', 'Test the connection for PostgreSQL server, then exit')
    .option('--json', 'machine-readable output')
    .option('--verify-first', 'read and verify the whole archive before the store is quiesced (default: the data is verified as it loads; the target data changes only once all of it has been verified)')
    .addHelpText('after', `\nTLS to PostgreSQL is verified against the CA in PG_CA_FILE when it is set.\n${EXIT_CODES}`)
    .action(async (o: Options) => {
      if (o.testRCConnection) {
        const instances = await listTargetInstances(readResourceControllerYaml(required(o.resourceController, '-r/--resourceController')));
        if (o.json) printJson({ ok: true, instances });
        else process.stdout.write(`resource controller OK: ${instances.length} instance(s)\n${instances.map((i) => `  ${i.id}  ${i.name}  (${i.workspaces} workspaces)\n`).join('')}`);
        return;
      }
      if (o.testPGConnection) {
        const db = await openDatabase({ postgres: o.target });
        try {
          const r = await db.pool.query<{ version: string; can_create: boolean }>(
            `select current_setting('server_version') as version, has_database_privilege(current_database(), 'CREATE') as can_create`);
          const row = r.rows[0]!;
          if (!row.can_create) {
            throw new AppError('PG_PERMISSION', `${db.connection.user} may not create schemas in ${db.connection.database}, which the restore needs`, {
              hint: 'use the database owner or a superuser as su_username', exitCode: 3,
            });
          }
          // sslmode=require (no PG_CA_FILE) encrypts without checking whose certificate it is: not "verified".
          const tls = Boolean(db.connection.ssl);
          const verified = tls && db.connection.ssl?.rejectUnauthorized !== false;
          if (o.json) printJson({ ok: true, server: row.version, tls, tls_verified: verified });
          else {
            const how = !tls ? '' : verified ? ', TLS verified' : ', TLS, server certificate not verified (set PG_CA_FILE to verify it)';
            process.stdout.write(`PostgreSQL OK: ${db.connection.host}:${db.connection.port}/${db.connection.database} (server ${row.version}${how})\n`);
          }
        } finally {
          await db.close();
        }
        return;
      }
      const text = (line: string): void => { if (!o.json) process.stderr.write(`${line}\n`); };
      const source = required(o.source, '-s/--source');
      const resourceController = required(o.resourceController, '-r/--resourceController');
      const phase = trackPhase();
      const s = await restore({
        source, resourceController, target: o.target, mapping: o.mapping, force: o.force, verifyFirst: o.verifyFirst,
        interactive: Boolean(process.stdin.isTTY && process.stderr.isTTY),
        cwd: process.cwd(), progress: o.json ? undefined : progressBar(), log: text, onPhase: phase.onPhase,
      }).catch((err: unknown) => { throw withTargetState(err, phase.state()); });
      if (o.json) { printJson(s); return; }
      const out = process.stdout;
      out.write(`restored ${s.source} (schema ${s.release.backup} → ${s.release.restored}) in ${(s.durationMs / 1000).toFixed(1)} s\n`);
      for (const i of s.instances) out.write(`  ${i.source} → ${i.target}  ${i.name}  (${i.workspaces} workspaces)\n`);
      out.write(`${s.workspaces} workspaces, ${s.rows} rows in ${s.tables} tables, ${humanBytes(s.bytes)} read\n`);
      out.write(`steps: ${Object.entries(s.steps).map(([step, ms]) => `${step} ${(ms / 1000).toFixed(1)} s`).join(', ')}\n`);
      if (s.mappingFile) out.write(`mapping saved to ${s.mappingFile}\n`);
      if (s.restartRequired) out.write(`RESTART REQUIRED: the target's encryption key changed (${s.key.before ?? 'none recorded'} → ${s.key.restored})\n`);
      out.write(`next: ${s.next}\n`);
    });
}
