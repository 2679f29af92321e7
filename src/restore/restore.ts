/**
 * pgmig: preflight everything (archive, upgrade path, key, target instances, mapping, target
 * state), then load into a staging schema and swap it in with one transaction. The store's API
 * refuses writes for the duration (maintenance flag), and accepts them again afterwards, also
 * when the restore fails.
 *
 * The archive's bulk data is verified as it loads, not in a pass of its own before: the target's
 * data changes only at the swap, which happens only after every block of the store's tables has
 * been decompressed and its rows counted, so a damaged archive leaves the data exactly as it was
 * either way — and decompressing once instead of twice is what lets pgmig keep up with
 * pg_restore. What a separate pass would add is only that writes are not refused while the bad
 * block is found; `verifyFirst` (--verify-first) buys that for the time of a full read. The
 * preflight reports no progress: it reads only the TOC and a few small tables.
 */
import { readSecretFile, SECRET_FILE_NAME } from '../auth/index.ts';
import { AppError } from '../errors/index.ts';
import {
  checkUpgradePath, CURRENT_RELEASE, isKnownRelease, openDatabase, recordedFingerprint, schemaRelease, secretFilePath, STORE_SCHEMA, type Database,
} from '../store/index.ts';
import { readResourceControllerYaml } from './config.ts';
import { confirmErase } from './confirm.ts';
import { assertNoOutsideDependents } from './dependents.ts';
import { loadStaging, swapIn } from './load.ts';
import { clearMaintenance, setMaintenance } from './maintenance.ts';
import { resolveMapping } from './mapping.ts';
import { listTargetInstances } from './resource-controller.ts';
import { preflightArchive, requireRegularFile, scanArchive, type ProgressFn } from './scan.ts';
import { dropStaleStaging, RESTORE_LOCK } from './staging.ts';

export interface RestoreOptions {
  source: string;
  resourceController: string;
  /** postgres.yaml of the target; default ASTORE_POSTGRES or DATABASE_URL, else the embedded server. */
  target?: string | undefined;
  mapping?: string | undefined;
  force?: boolean | undefined;
  /** Read and verify the whole archive before the store is quiesced (default: verify while loading). */
  verifyFirst?: boolean | undefined;
  /** A terminal to ask on (the mapping, and whether to replace a target that holds data). */
  interactive: boolean;
  /** Where the answers come from (tests); default stdin. */
  input?: NodeJS.ReadableStream | undefined;
  cwd: string;
  env?: NodeJS.ProcessEnv | undefined;
  progress?: ProgressFn | undefined;
  /** Announces each phase (text output on a terminal). */
  log?: ((line: string) => void) | undefined;
  /**
   * Told where the restore stands, so an interrupted run can say what it left behind: 'load' once
   * the staging schema exists (the target still unchanged), 'swap' while its one transaction runs.
   */
  onPhase?: ((phase: RestorePhase) => void) | undefined;
  /** Test hooks: after each table is loaded, and once everything is staged, just before the swap. */
  afterTable?: ((table: string) => void | Promise<void>) | undefined;
  beforeSwap?: (() => void | Promise<void>) | undefined;
}

export type RestorePhase = { step: 'load'; staging: string } | { step: 'swap'; staging: string };

export interface RestoreSummary {
  source: string;
  release: { backup: string; restored: string };
  instances: Array<{ source: string; target: string; name: string; workspaces: number }>;
  workspaces: number;
  tables: number;
  rows: number;
  bytes: number;
  durationMs: number;
  /** Milliseconds spent in each step, in order: verify, prepare, copy, indexes, constraints, upgrade, finish, swap. */
  steps: Record<string, number>;
  mappingFile?: string | undefined;
  /** The key fingerprint the target recorded before the restore (null: none) and the restored data's. */
  key: { before: string | null; restored: string };
  /** A running `astore serve` or `astore train-worker` still holds the key it loaded at start, which no longer opens the data. */
  restartRequired: boolean;
  next: string;
}

const RETRAIN_STEP = 'every restored workspace is queued for training: the training workers of a running `astore serve` or '
  + '`astore train-worker` train them now (whatever AUTO_RETRAIN says); with none running, `astore retrain-all` trains them in its batches';

/**
 * What to do after the restore. A server loads the key file once, at start, and checks it against
 * the fingerprint the database records; when the restore brought data under another key (the key
 * file was applied since the server started), that server can neither decrypt nor write webhook
 * secrets until it is restarted.
 */
export function nextSteps(keyBefore: string | null, keyRestored: string): { restartRequired: boolean; next: string } {
  if (keyBefore === keyRestored) return { restartRequired: false, next: RETRAIN_STEP };
  return {
    restartRequired: true,
    next: `restart the target's \`astore serve\` (and any \`astore train-worker\`) now: the restored data is encrypted with key ${keyRestored}, `
      + `a process started before it was applied holds key ${keyBefore ?? '(none recorded)'} and fails reads and writes of webhook secrets until restarted; `
      + `then ${RETRAIN_STEP}`,
  };
}

export async function restore(o: RestoreOptions): Promise<RestoreSummary> {
  const started = Date.now();
  const env = o.env ?? process.env;
  const log = o.log ?? (() => undefined);
  const rc = readResourceControllerYaml(o.resourceController);

  const steps: Record<string, number> = {};
  let stepStart = started;
  const stepDone = (name: string): void => {
    const now = Date.now();
    steps[name] = now - stepStart;
    stepStart = now;
  };

  await requireRegularFile(o.source);
  log(`verifying ${o.source}`);
  const summary = o.verifyFirst ? await scanArchive(o.source, o.progress) : await preflightArchive(o.source, o.progress);
  if (!summary.verified) log('read the TOC and the instance, key and schema tables; the bulk data is verified as it loads');
  stepDone('verify');
  checkUpgradePath(summary.release, CURRENT_RELEASE);

  const keyFile = secretFilePath(env);
  const key = readSecretFile(keyFile);
  if (!key) {
    throw new AppError('KEY_MISSING', `there is no encryption key file ${keyFile} for the target store`, {
      hint: `apply the backed-up store's ${SECRET_FILE_NAME} first: \`astore secret apply -f ${SECRET_FILE_NAME}\``, exitCode: 5,
    });
  }
  // No fingerprint only in archives from before encrypted secrets (the scan refuses a later one
  // without it): their plaintext secrets are encrypted with the target's key by the upgrade.
  if (summary.fingerprint && summary.fingerprint !== key.fingerprint) {
    throw new AppError('KEY_MISMATCH', `the backup was written with encryption key ${summary.fingerprint}, but the target's key (${keyFile}) is ${key.fingerprint}`, {
      // Not "restart the store first": a serve that has recorded its own key refuses to start under
      // the backed-up one until pgmig has restored data written with it.
      hint: `apply the backed-up store's ${SECRET_FILE_NAME} (\`astore secret apply -f ${SECRET_FILE_NAME}\`) and run pgmig again, leaving the target's astore serve running; restart serve after pgmig, which then says RESTART REQUIRED`,
      exitCode: 5,
    });
  }

  log('listing the target instances');
  const targets = await listTargetInstances(rc);
  const { mapping, savedTo } = await resolveMapping(summary.instances, targets, { file: o.mapping, interactive: o.interactive, cwd: o.cwd, input: o.input });

  const db: Database = await openDatabase({ postgres: o.target, env, poolSize: 2 });
  try {
    const client = await db.pool.connect();
    try {
      const locked = await client.query<{ ok: boolean }>('select pg_try_advisory_lock($1) as ok', [RESTORE_LOCK]);
      if (!locked.rows[0]!.ok) {
        throw new AppError('RESTORE_RUNNING', 'another restore into this database is running', { hint: 'wait for it to finish', exitCode: 6 });
      }
      const held = await checkTarget(client, mapping);
      if (held > 0 && o.force !== true) {
        if (!o.interactive) {
          throw new AppError('TARGET_NOT_EMPTY', `the target store holds ${held} workspace(s), which the restore would erase`, {
            hint: 'back the target up first if you may need it, then run pgmig with -f/--force (or on a terminal, where it asks)', exitCode: 6,
          });
        }
        await confirmErase(held, o.input ?? process.stdin);
      }
      const keyBefore = (await recordedFingerprint(client, STORE_SCHEMA)) ?? null;
      await dropStaleStaging(client);
      await setMaintenance(client, 'the store is being restored from a backup (pgmig); writes are refused until the restore ends');
      let swapped = false;
      try {
        log(`loading into a staging schema (release ${summary.release} → ${CURRENT_RELEASE})`);
        // A second connection copies and builds indexes alongside the first.
        const helper = await db.pool.connect();
        let loaded: Awaited<ReturnType<typeof loadStaging>>;
        try {
          stepStart = Date.now(); // instance listing and mapping prompts are not the restore's work
          loaded = await loadStaging({
            clients: [client, helper], summary, mapping, key, progress: o.progress, afterTable: o.afterTable, stepDone,
            onStaging: (staging) => o.onPhase?.({ step: 'load', staging }),
          });
        } finally {
          helper.release();
        }
        await o.beforeSwap?.();
        o.onPhase?.({ step: 'swap', staging: loaded.staging });
        await swapIn(client, loaded.staging);
        swapped = true;
        stepDone('swap');
        return {
          source: o.source,
          release: { backup: summary.release, restored: CURRENT_RELEASE },
          instances: summary.instances.map((s) => ({ source: s.id, target: mapping.get(s.id)!, name: s.name, workspaces: s.workspaces })),
          workspaces: loaded.workspaces, tables: loaded.tables, rows: loaded.rows, bytes: summary.bytes,
          durationMs: Date.now() - started, steps, mappingFile: savedTo,
          key: { before: keyBefore, restored: key.fingerprint }, ...nextSteps(keyBefore, key.fingerprint),
        };
      } finally {
        // Also when the load failed half way: its staging schema is of no use to anyone.
        if (!swapped) await dropStaleStaging(client).catch(() => undefined);
        await clearMaintenance(client).catch(() => undefined);
        await client.query('select pg_advisory_unlock($1)', [RESTORE_LOCK]).catch(() => undefined);
      }
    } finally {
      client.release();
    }
  } finally {
    await db.close();
  }
}

/**
 * The target must be a current store whose instances are the ones the resource controller listed;
 * returns how many workspaces it holds (which the restore would erase).
 */
async function checkTarget(client: import('pg').ClientBase, mapping: Map<string, string>): Promise<number> {
  const release = await schemaRelease(client, STORE_SCHEMA);
  if (release !== CURRENT_RELEASE) {
    throw new AppError('TARGET_NOT_CURRENT', `the target database's store schema is at release ${release ?? '(none)'}, pgmig restores into ${CURRENT_RELEASE}`, {
      hint: release !== undefined && !isKnownRelease(release)
        ? `the target was upgraded by a newer release: restore with pgmig ${release}`
        : 'start the target store (`astore serve` or `astore migrate`) once, then run pgmig again',
      exitCode: 4,
    });
  }
  const ids = [...mapping.values()];
  const r = await client.query<{ id: string }>(`select id from ${STORE_SCHEMA}.instances where id = any($1::uuid[])`, [ids]);
  const found = new Set(r.rows.map((x) => x.id));
  const absent = ids.filter((id) => !found.has(id));
  if (absent.length > 0) {
    throw new AppError('TARGET_MISMATCH', `the resource controller lists instance(s) ${absent.join(', ')}, which the target database does not have`, {
      hint: 'resourceController.yaml and postgres.yaml must describe the same deployment', exitCode: 2,
    });
  }
  await assertNoOutsideDependents(client, STORE_SCHEMA);
  const w = await client.query<{ n: string }>(`select count(*) as n from ${STORE_SCHEMA}.workspaces`);
  return Number(w.rows[0]!.n);
}
