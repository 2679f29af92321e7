/**
 * The command's contract with an operator: a name Kubernetes would refuse is refused here, naming
 * the rule, with exit 2 and nothing on stdout; `-o FILE` replaces the file in one rename (a reader
 * or a failed run never sees a partial manifest), and a failed run leaves the old file as it was.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { cleanEnv, find, manifests, parseObjects, podTemplates, type Obj } from './helpers.ts';

const root = mkdtempSync(join(tmpdir(), 'astore-k8s-cmd-'));
after(() => rmSync(root, { recursive: true, force: true }));

const badInstances: Array<[string, RegExp]> = [
  ['Bad_Name', /DNS-1123 label/],
  ['wa-', /DNS-1123 label/],
  ['1wa', /must begin with a letter/],
  ['a'.repeat(39), /39 characters; at most 38 keep the CronJob name a+-store-cronjob within Kubernetes' 52/],
];

test('a bad --instance is refused with K8S_NAME_INVALID, exit 2 and no output', { timeout: 90_000 }, async () => {
  const runs = await Promise.all(badInstances.map(([name]) => manifests(['--instance', name])));
  runs.forEach((r, i) => {
    const [name, rule] = badInstances[i]!;
    assert.equal(r.code, 2, `${name}: ${r.output}`);
    assert.match(r.stderr, new RegExp(`^error \\[K8S_NAME_INVALID\\]: --instance "${name}" is not a valid Kubernetes name`, 'm'), name);
    assert.match(r.stderr, rule, name);
    assert.match(r.stderr, /^hint: /m, name);
    assert.equal(r.stdout, '', name);
  });
  // The longest name allowed is accepted.
  const longest = await manifests(['--instance', 'a'.repeat(38)]);
  assert.equal(longest.code, 0, longest.output);
});

test('other bad options are refused before anything is written', { timeout: 90_000 }, async () => {
  const cases: Array<[string[], RegExp]> = [
    [['--instance', 'wa', '--backup-storage', '10GB'], /error \[K8S_OPTION_INVALID\]: --backup-storage is "10GB"/],
    [['--instance', 'wa', '--namespace', 'Prod'], /error \[K8S_NAME_INVALID\]: --namespace "Prod"/],
    [['--instance', 'wa', '--postgres-secret', 'pg_secret'], /error \[K8S_NAME_INVALID\]: --postgres-secret "pg_secret"/],
    [['--instance', 'wa', '--training-replicas', '0'], /error \[ARGUMENT_INVALID\]: --training-replicas must be a whole number from 1 to 2147483647, got "0"/],
    [['--instance', 'wa', '--auto-retrain-all-schedule', '0 0 3 * * *'], /error \[CRON_INVALID\]: --auto-retrain-all-schedule: /],
  ];
  const runs = await Promise.all(cases.map(([args]) => manifests(args)));
  runs.forEach((r, i) => {
    const [args, message] = cases[i]!;
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.output}`);
    assert.match(r.stderr, message, args.join(' '));
    assert.equal(r.stdout, '', args.join(' '));
  });
  const missing = await manifests([]);
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /required option '--instance <name>' not specified/);
});

test('values Kubernetes would refuse (beyond int32, zero storage) and a retrain-all that never fires are refused, naming the range', { timeout: 90_000 }, async () => {
  const INT32 = /a whole number from 1 to 2147483647/;
  const cases: Array<[string[], NodeJS.ProcessEnv, RegExp]> = [
    [['--store-replicas', '2147483648'], {}, /error \[ARGUMENT_INVALID\]: --store-replicas must be a whole number from 1 to 2147483647, got "2147483648"/],
    [['--training-replicas', '9007199254740991'], {}, /error \[ARGUMENT_INVALID\]: --training-replicas must be a whole number from 1 to 2147483647/],
    [['--run-as', '0'], {}, INT32],
    [['--run-as', '2147483648'], {}, INT32],
    [['--run-as', 'nobody'], {}, INT32],
    [['--backup-storage', '0'], {}, /error \[K8S_OPTION_INVALID\]: --backup-storage is "0", expected a size greater than zero/],
    [['--backup-storage', '0Gi'], {}, /--backup-storage is "0Gi", expected a size greater than zero/],
    [['--backup-storage', '0.0'], {}, /--backup-storage is "0.0", expected a size greater than zero/],
    [[], { STORE_BACKUP_HISTORY_JOBS_SUCCESS: '2147483648' },
      /error \[BACKUP_CONFIG_INVALID\]: store\.backup\.history\.jobs\.success from STORE_BACKUP_HISTORY_JOBS_SUCCESS is "2147483648", expected a whole number from 0 to 2147483647/],
    [[], { STORE_BACKUP_HISTORY_JOBS_FAILED: '9007199254740991' }, /store\.backup\.history\.jobs\.failed .* expected a whole number from 0 to 2147483647/],
    // The seeds' example: a one-off date, long past.
    [['--auto-retrain-all-schedule', '0 40 19 11 3 ? 2024'], {},
      /error \[CRON_INVALID\]: --auto-retrain-all-schedule "0 40 19 11 3 \? 2024" has no fire time after now \(\d{4}-.*Z\)/],
  ];
  const runs = await Promise.all(cases.map(([args, env]) => manifests(['--instance', 'wa', ...args], cleanEnv(env))));
  runs.forEach((r, i) => {
    const [args, env, message] = cases[i]!;
    const what = `${args.join(' ')} ${JSON.stringify(env)}`;
    assert.equal(r.code, 2, `${what}: ${r.output}`);
    assert.match(r.stderr, message, what);
    assert.equal(r.stdout, '', what);
  });
  assert.match(runs.at(-1)!.stderr, /^hint: give a time to come/m);

  // The largest values Kubernetes takes, and a schedule still to come, are accepted.
  const limits = await manifests(['--instance', 'wa', '--store-replicas', '2147483647', '--run-as', '2147483647', '--backup-storage', '0.5Gi',
    '--auto-retrain-all-schedule', '0 0 3 * * ? 2199'], cleanEnv({ STORE_BACKUP_HISTORY_JOBS_SUCCESS: '2147483647' }));
  assert.equal(limits.code, 0, limits.output);
  const objs = parseObjects(limits.stdout);
  assert.equal(find(objs, 'Deployment', 'wa-store').spec.replicas, 2147483647);
  assert.equal(find(objs, 'CronJob', 'wa-store-cronjob').spec.successfulJobsHistoryLimit, 2147483647);
});

test('--encryption-secret help names the key the manifests mount, and the Secret astore secret export writes', { timeout: 60_000 }, async () => {
  const [help, generated] = await Promise.all([manifests(['--help']), manifests(['--instance', 'wa'])]);
  assert.equal(help.code, 0, help.output);
  const text = help.stdout.replace(/\s+/g, ' ');
  const option = text.slice(text.indexOf('--encryption-secret'), text.indexOf('--run-as'));
  const mounted = podTemplates(parseObjects(generated.stdout)).flatMap(({ template }) => template.spec.volumes)
    .filter((v: Obj) => v.secret?.secretName === 'wa-auth-encryption').flatMap((v: Obj) => v.secret.items.map((i: Obj) => i.key));
  assert.deepEqual([...new Set(mounted)], ['auth_encryption_key']);
  assert.match(option, /under key auth_encryption_key:/);
  assert.match(option, /astore secret export --name NAME/);
  assert.match(option, /kubectl apply -f/);
  assert.doesNotMatch(option, /auth-encryption-secret\.yaml/);
});

test('-o FILE replaces the file by rename, and a failed run leaves it untouched', { timeout: 90_000 }, async () => {
  const dir = mkdtempSync(join(root, 'out-'));
  const file = join(dir, 'wa.yaml');
  writeFileSync(file, 'previous manifests\n');
  const before = statSync(file).ino;

  const [written, printed] = await Promise.all([manifests(['--instance', 'wa', '-o', file]), manifests(['--instance', 'wa'])]);
  assert.equal(written.code, 0, written.output);
  assert.equal(written.stdout, '', 'with -o nothing goes to stdout');
  assert.match(written.stderr, new RegExp(`wrote ${file}`));
  assert.equal(readFileSync(file, 'utf8'), printed.stdout, 'the file holds what stdout would have');
  assert.ok(parseObjects(readFileSync(file, 'utf8')).length > 0);
  assert.notEqual(statSync(file).ino, before, 'a new file renamed over the old one, not the old one rewritten in place');
  assert.deepEqual(readdirSync(dir), ['wa.yaml'], 'no temporary file left behind');

  const content = readFileSync(file, 'utf8');
  const failed = await manifests(['--instance', 'Bad', '-o', file]);
  assert.equal(failed.code, 2, failed.output);
  assert.equal(readFileSync(file, 'utf8'), content);
  assert.deepEqual(readdirSync(dir), ['wa.yaml']);

  const nowhere = await manifests(['--instance', 'wa', '-o', join(dir, 'missing', 'wa.yaml')]);
  assert.equal(nowhere.code, 1, nowhere.output);
  assert.match(nowhere.stderr, /^error \[K8S_WRITE_FAILED\]: cannot write .*missing\/wa\.yaml/m);
  assert.deepEqual(readdirSync(dir), ['wa.yaml'], 'a write that fails leaves nothing');
});
