/**
 * Backup settings: the seeds' seven `store.backup.*` values with the seeds' defaults, plus the
 * backup directory and the catch-up deadline. Read from a YAML config file (nested keys, or the
 * seeds' dotted names as flat keys) and overridden by environment variables:
 *
 *   store.backup.suspend                          STORE_BACKUP_SUSPEND                       false
 *   store.backup.schedule                         STORE_BACKUP_SCHEDULE                      0 23 * * *
 *   store.backup.history.jobs.success             STORE_BACKUP_HISTORY_JOBS_SUCCESS          30
 *   store.backup.history.jobs.failed              STORE_BACKUP_HISTORY_JOBS_FAILED           10
 *   store.backup.history.files.weekly_backup_day  STORE_BACKUP_HISTORY_FILES_WEEKLY_BACKUP_DAY 0 (Sunday)
 *   store.backup.history.files.keep_weekly        STORE_BACKUP_HISTORY_FILES_KEEP_WEEKLY     4
 *   store.backup.history.files.keep_daily         STORE_BACKUP_HISTORY_FILES_KEEP_DAILY      6
 *   store.backup.dir                              STORE_BACKUP_DIR                           ASTORE_HOME/store-backups
 *   store.backup.starting_deadline_seconds        STORE_BACKUP_STARTING_DEADLINE_SECONDS     (none)
 *   store.backup.engine                           STORE_BACKUP_ENGINE                        builtin
 *
 * `postgres.backup.schedule` (POSTGRES_BACKUP_SCHEDULE) is read as another name of the schedule:
 * it is the parameter the seeds tell operators to edit to move the daily backup.
 *
 * The engine is what writes the archive: `builtin` (the store's dumper) or `pg_dump` (stock
 * `pg_dump -Fc`), for databases holding objects the dumper refuses.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { astoreHome, parseSwitch, yamlProblem } from '../config/index.ts';
import { AppError } from '../errors/index.ts';
import { parseCron } from '../schedule/index.ts';

export interface BackupSettings {
  suspend: boolean;
  schedule: string;
  jobsSuccess: number;
  jobsFailed: number;
  weeklyBackupDay: number;
  keepWeekly: number;
  keepDaily: number;
  dir: string;
  /** A missed slot older than this is skipped rather than caught up; undefined = no deadline. */
  startingDeadlineSeconds: number | undefined;
  engine: BackupEngineName;
}

const INT32_MAX = 2_147_483_647;

export const BACKUP_ENGINES = ['builtin', 'pg_dump'] as const;
export type BackupEngineName = typeof BACKUP_ENGINES[number];

type Kind = 'boolean' | 'cron' | 'count' | 'weekday' | 'path' | 'seconds' | 'engine';
interface Setting { key: string; field: keyof BackupSettings; kind: Kind; alias?: string }
const SETTINGS: readonly Setting[] = [
  { key: 'store.backup.suspend', field: 'suspend', kind: 'boolean' },
  { key: 'store.backup.schedule', field: 'schedule', kind: 'cron', alias: 'postgres.backup.schedule' },
  { key: 'store.backup.history.jobs.success', field: 'jobsSuccess', kind: 'count' },
  { key: 'store.backup.history.jobs.failed', field: 'jobsFailed', kind: 'count' },
  { key: 'store.backup.history.files.weekly_backup_day', field: 'weeklyBackupDay', kind: 'weekday' },
  { key: 'store.backup.history.files.keep_weekly', field: 'keepWeekly', kind: 'count' },
  { key: 'store.backup.history.files.keep_daily', field: 'keepDaily', kind: 'count' },
  { key: 'store.backup.dir', field: 'dir', kind: 'path' },
  { key: 'store.backup.starting_deadline_seconds', field: 'startingDeadlineSeconds', kind: 'seconds' },
  { key: 'store.backup.engine', field: 'engine', kind: 'engine' },
];

export function envName(key: string): string {
  return key.replace(/\./g, '_').toUpperCase();
}

export function defaultSettings(env: NodeJS.ProcessEnv = process.env): BackupSettings {
  return {
    suspend: false, schedule: '0 23 * * *', jobsSuccess: 30, jobsFailed: 10,
    weeklyBackupDay: 0, keepWeekly: 4, keepDaily: 6,
    dir: join(astoreHome(env), 'store-backups'), startingDeadlineSeconds: undefined, engine: 'builtin',
  };
}

function invalid(key: string, source: string, value: unknown, expected: string): AppError {
  return new AppError('BACKUP_CONFIG_INVALID', `${key} from ${source} is ${JSON.stringify(value)}, expected ${expected}`, {
    hint: `fix ${key} in the config file or the ${envName(key)} environment variable`, exitCode: 2,
  });
}

function coerce(key: string, kind: Kind, raw: unknown, source: string): unknown {
  const text = typeof raw === 'string' ? raw.trim() : raw;
  switch (kind) {
    case 'boolean': {
      if (typeof text === 'boolean') return text;
      // The words every switch takes (AUTO_RETRAIN too); parseSwitch's own error is replaced by
      // this file's, which names the config key and the environment variable alike.
      let on: boolean | undefined;
      try {
        if (typeof text === 'string' || typeof text === 'number') on = parseSwitch(key, String(text));
      } catch { /* not one of the words */ }
      if (on === undefined) throw invalid(key, source, raw, 'true, false, 1, 0, yes or no');
      return on;
    }
    case 'cron': {
      if (typeof text !== 'string') throw invalid(key, source, raw, 'a 5-field cron expression');
      try { parseCron(text); } catch (err) {
        throw invalid(key, source, raw, `a 5-field cron expression (${(err as Error).message})`);
      }
      return text;
    }
    case 'engine':
      if (typeof text !== 'string' || !(BACKUP_ENGINES as readonly string[]).includes(text)) throw invalid(key, source, raw, BACKUP_ENGINES.join(' or '));
      return text;
    case 'path':
      if (typeof text !== 'string' || text === '') throw invalid(key, source, raw, 'a directory path');
      return text;
    default: {
      const n = typeof text === 'number' ? text : typeof text === 'string' && /^\d+$/.test(text) ? Number(text) : NaN;
      // Counts go into a CronJob's job-history limits (astore k8s manifests), which Kubernetes keeps as int32.
      const max = kind === 'weekday' ? 6 : kind === 'count' ? INT32_MAX : Number.MAX_SAFE_INTEGER;
      const min = kind === 'seconds' ? 1 : 0;
      if (!Number.isInteger(n) || n < min || n > max) {
        throw invalid(key, source, raw, kind === 'weekday' ? 'a day of the week 0-6 (0 = Sunday)'
          : kind === 'count' ? `a whole number from ${min} to ${max}` : `a whole number >= ${min}`);
      }
      return n;
    }
  }
}

/**
 * Looks a dotted key up as nested maps, as one flat dotted key, or any mix (`store.backup:` holding
 * `suspend:`): all appear in practice, and a form not understood would fall back to the default.
 * The key written in two forms with two values is refused: which one was meant is not for the
 * store to guess (the first form found used to win without a word).
 */
function lookup(doc: unknown, key: string, file: string): unknown {
  const parts = key.split('.');
  const found: Array<{ path: string; value: unknown }> = [];
  const walk = (node: unknown, at: number, path: string[]): void => {
    if (at === parts.length) {
      if (node !== undefined && node !== null && node !== '') found.push({ path: path.join(' → '), value: node });
      return;
    }
    if (!node || typeof node !== 'object' || Array.isArray(node)) return;
    for (let end = parts.length; end > at; end--) {
      const name = parts.slice(at, end).join('.');
      if (Object.hasOwn(node, name)) walk((node as Record<string, unknown>)[name], end, [...path, name]);
    }
  };
  walk(doc, 0, []);
  const other = found.find((f) => !sameValue(f.value, found[0]!.value));
  if (other) {
    throw new AppError('BACKUP_CONFIG_INVALID',
      `config file ${file} sets ${key} twice, to ${JSON.stringify(found[0]!.value)} (as ${found[0]!.path}) and to ${JSON.stringify(other.value)} (as ${other.path})`, {
        hint: 'keep one of them: dotted keys and nested maps name the same setting', exitCode: 2,
      });
  }
  return found[0]?.value;
}

/** Every leaf of a YAML document with its full dotted path (maps nested or keyed with dots alike) and value. */
function leaves(node: unknown, path: string, out: Array<[string, unknown]>): Array<[string, unknown]> {
  if (node && typeof node === 'object' && !Array.isArray(node)) {
    for (const [k, v] of Object.entries(node)) leaves(v, path ? `${path}.${k}` : k, out);
  } else out.push([path, node]);
  return out;
}

/**
 * A `store.backup.*` (or `postgres.backup.*`) key the store does not know is a typo (`keep_dialy`, `schedul`) whose setting
 * would silently keep its default: a schedule never run, a retention never applied. Other keys of
 * the file are not the backup's business and are left alone.
 */
function refuseUnknownKeys({ doc, file }: Sources): void {
  const known = new Set(SETTINGS.flatMap((s) => (s.alias ? [s.key, s.alias] : [s.key])));
  // An empty section (`store.backup:` or `history:` with every setting under it commented out) is
  // a null leaf at a path that is no setting itself: it sets nothing, and is no typo either.
  const section = (k: string): boolean => [...known].some((key) => key.startsWith(`${k}.`));
  const ours = (k: string): boolean => ['store.backup', 'postgres.backup'].some((p) => k === p || k.startsWith(`${p}.`));
  const unknown = leaves(doc, '', [])
    .filter(([k, v]) => ours(k) && !known.has(k) && !(v === null && section(k)))
    .map(([k]) => k);
  if (unknown.length > 0) {
    throw new AppError('BACKUP_CONFIG_INVALID', `config file ${file} has ${unknown.length === 1 ? 'a key' : 'keys'} the store does not know: ${unknown.join(', ')}`, {
      hint: `the backup settings are ${[...known].join(', ')}; fix or remove the others`, exitCode: 2, details: { keys: unknown },
    });
  }
}

export interface LoadSettingsOptions {
  /** Config file; default ASTORE_HOME/config.yaml when it exists. */
  config?: string | undefined;
  env?: NodeJS.ProcessEnv;
}

/** The config file's document (undefined without one) and the environment that overrides it. */
interface Sources { doc: unknown; file: string; env: NodeJS.ProcessEnv }

function readSources(opts: LoadSettingsOptions): Sources {
  const env = opts.env ?? process.env;
  const file = opts.config ?? join(astoreHome(env), 'config.yaml');
  if (!opts.config && !existsSync(file)) return { doc: undefined, file, env };
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new AppError('BACKUP_CONFIG_UNREADABLE', `config file ${file} cannot be read: ${(err as Error).message}`, {
      hint: opts.config ? 'check the path given with --config and that this user may read it' : `make ${file} readable by this user, or remove it to use the defaults`, exitCode: 2,
    });
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new AppError('BACKUP_CONFIG_INVALID', `config file ${file} is not valid YAML: ${yamlProblem(err as Error)}`, {
      hint: 'fix the line the message names (YAML: two-space indents, `key: value`; quote cron schedules)', exitCode: 2,
    });
  }
  // An empty file sets nothing; a list, or text that is no mapping at all (a file given by mistake), is no settings file.
  if (doc !== null && doc !== undefined && (typeof doc !== 'object' || Array.isArray(doc))) {
    throw new AppError('BACKUP_CONFIG_INVALID', `config file ${file} is not a mapping of settings (it holds ${Array.isArray(doc) ? 'a list' : `a ${typeof doc}`})`, {
      hint: 'write the settings as `store.backup.schedule: "0 23 * * *"` lines, or nested under store: backup:', exitCode: 2,
    });
  }
  return { doc, file, env };
}

/**
 * One setting, checked: the file's value, overridden by the environment's; undefined when neither
 * sets it. A setting given under both its names in one place must say the same thing twice.
 */
function readSetting(s: Setting, { doc, file, env }: Sources): unknown {
  const names = s.alias ? [s.key, s.alias] : [s.key];
  /** The setting's values in one place, under whichever of its names are given there. */
  const given = (where: (name: string) => string, raw: (name: string) => unknown) => names.flatMap((name) => {
    const value = raw(name);
    return value === undefined || value === null || value === '' ? [] : [{ name, where: where(name), value: coerce(name, s.kind, value, where(name)) }];
  });
  const fromEnv = given(envName, (name) => env[envName(name)]);
  const fromFile = given(() => `config file ${file}`, (name) => lookup(doc, name, file));
  for (const [a, b] of [fromEnv, fromFile]) {
    if (b && !sameValue(a!.value, b.value)) {
      throw new AppError('BACKUP_CONFIG_INVALID',
        `${[a!, b].map((f) => `${f.where} sets ${f.name} to ${JSON.stringify(f.value)}`).join(' and ')}: one setting under two names, two values`, {
          hint: `keep one of them (${s.key} is the store's name for it)`, exitCode: 2,
        });
    }
  }
  return (fromEnv[0] ?? fromFile[0])?.value;
}

/** Cron expressions that differ only in spacing say the same thing. */
function sameValue(a: unknown, b: unknown): boolean {
  return typeof a === 'string' && typeof b === 'string' ? a.split(/\s+/).join(' ') === b.split(/\s+/).join(' ') : a === b;
}

/**
 * The settings, each checked. With `only`, just those are read and the rest keep their defaults:
 * a command that needs one or two settings (`astore backup` the engine, `astore backups list` the
 * directory and the weekly day) must not be stopped by a mistake in another, the schedule say.
 */
export function loadBackupSettings(opts: LoadSettingsOptions = {}, only?: ReadonlyArray<keyof BackupSettings>): BackupSettings {
  const sources = readSources(opts);
  if (!only) refuseUnknownKeys(sources);
  const settings = defaultSettings(sources.env);
  const out = settings as unknown as Record<string, unknown>;
  for (const s of SETTINGS) {
    if (only && !only.includes(s.field)) continue;
    const value = readSetting(s, sources);
    if (value !== undefined) out[s.field] = value;
  }
  return settings;
}
