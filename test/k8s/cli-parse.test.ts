/**
 * The point of generating the manifests from the CLI: every container's command line is one this
 * CLI accepts. Each is parsed by the program `astore` itself builds (`buildProgram`), with every
 * action replaced by a recorder, so commander checks the command path, each flag and its value,
 * and the operands exactly as it would in the pod — and nothing runs. Each file a flag or
 * variable names must then be one the container mounts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CommanderError, type Command } from 'commander';
import { buildProgram } from '../../src/cli/main.ts';
import { containers, objects, type Obj } from './helpers.ts';

interface Parsed { command: string; options: Record<string, unknown> }

async function parseWithCli(args: string[]): Promise<Parsed> {
  const argv = ['node', 'astore', ...args];
  const program = await buildProgram(argv);
  const messages: string[] = [];
  let parsed: Parsed | undefined;
  const stub = (cmd: Command, path: string[]): void => {
    cmd.configureOutput({ writeOut: (s) => messages.push(s), writeErr: (s) => messages.push(s) });
    if (cmd.commands.length === 0) {
      cmd.action((...received: unknown[]) => {
        const self = received[received.length - 1] as Command;
        parsed = { command: path.join(' '), options: self.opts() };
      });
    }
    for (const sub of cmd.commands) stub(sub, [...path, sub.name()]);
  };
  stub(program, []);
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) throw new Error(`astore ${args.join(' ')}: ${messages.join('').trim() || err.message}`);
    throw err;
  }
  if (!parsed) throw new Error(`astore ${args.join(' ')} names no command that runs (${messages.join('').trim()})`);
  return parsed;
}

/**
 * The file at `path` comes from one of the container's mounts: a Secret item, a
 * mounted Secret as a whole (a directory the CLI reads as the Secret), or a writable directory.
 */
function assertMounted(owner: string, container: Obj, volumes: Obj[], path: string, writable: boolean): void {
  const provided = (container.volumeMounts ?? []).some((m: Obj) => {
    const volume = volumes.find((v) => v.name === m.name);
    if (!volume) return false;
    if (writable) return !m.readOnly && volume.persistentVolumeClaim && path.startsWith(`${m.mountPath}/`);
    const items: Obj[] = (volume.secret ?? volume.configMap)?.items ?? [];
    return items.some((i) => `${m.mountPath}/${i.path}` === path) || (volume.secret && m.mountPath === path);
  });
  assert.ok(provided, `${owner}: ${path} is not ${writable ? 'in a writable volume' : 'a mounted file'}`);
}

/** Flags and variables that name files the command reads, or (-o) writes. */
const READ_FLAGS = new Set(['--postgres', '--config']);
const WRITE_FLAGS = new Set(['-o', '--output']);
const FILE_VARIABLES = new Set(['ASTORE_POSTGRES', 'ASTORE_ENCRYPTION_SECRET', 'PG_CA_FILE']);

const variants: Array<[string, string[]]> = [
  ['defaults', ['--instance', 'wa']],
  ['every option', ['--instance', 'wa', '--namespace', 'cpd', '--image', 'r.example.com/astore:1', '--store-replicas', '3',
    '--training-replicas', '7', '--backup-storage', '1Ti', '--storage-class', 'fast', '--postgres-secret', 'pg',
    '--postgres-ca-secret', 'pg-ca', '--encryption-secret', 'key', '--auto-retrain-all-schedule', '0 0 3 * * ?']],
];

for (const [name, args] of variants) {
  test(`${name}: every container runs a command line this CLI accepts, with the files it names mounted`, { timeout: 60_000 }, async () => {
    const all = containers(await objects(args));
    assert.deepEqual(all.map((c) => c.owner).sort(), [
      'CronJob/wa-store-cronjob/backup-job', 'CronJob/wa-store-cronjob/export-key', 'Deployment/wa-clu-training/train-worker',
      'Deployment/wa-store-admin/store-admin', 'Deployment/wa-store/serve',
    ]);
    const commands = new Map<string, string>();
    for (const { owner, container, volumes } of all) {
      assert.deepEqual(container.command, ['astore'], owner);
      const parsed = await parseWithCli(container.args);
      commands.set(owner, parsed.command);
      container.args.forEach((arg: string, i: number) => {
        if (READ_FLAGS.has(arg)) assertMounted(owner, container, volumes, container.args[i + 1], false);
        if (WRITE_FLAGS.has(arg)) assertMounted(owner, container, volumes, container.args[i + 1], true);
      });
      for (const e of container.env ?? []) if (FILE_VARIABLES.has(e.name)) assertMounted(owner, container, volumes, e.value, false);
    }
    assert.deepEqual(Object.fromEntries(commands), {
      'CronJob/wa-store-cronjob/export-key': 'secret export',
      'CronJob/wa-store-cronjob/backup-job': 'backup-job',
      'Deployment/wa-store/serve': 'serve',
      'Deployment/wa-clu-training/train-worker': 'train-worker',
      'Deployment/wa-store-admin/store-admin': 'store-admin',
    });
  });
}

test('the check itself refuses what the CLI would refuse', async () => {
  await assert.rejects(parseWithCli(['backup-job', '--no-such-flag']), /unknown option '--no-such-flag'/);
  await assert.rejects(parseWithCli(['backup-job', '--config']), /argument missing/);
  await assert.rejects(parseWithCli(['serve', 'extra']), /too many arguments/);
  await assert.rejects(parseWithCli(['backup-jobs']), /unknown command/);
  // A command group alone prints its help and runs nothing.
  await assert.rejects(parseWithCli(['secret']), /Usage: astore secret \[options\] \[command\]/);
  assert.deepEqual(await parseWithCli(['train-worker', '--concurrency', '1', '--no-sweep']), { command: 'train-worker', options: { concurrency: '1', sweep: false } });
});
