/** Runs `astore k8s manifests` as an operator would and reads its output back as Kubernetes objects. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { runAstore, type CliRun } from '../support/cli.ts';

// Parsed manifests are checked field by field; typing every Kubernetes kind here would add nothing.
export type Obj = Record<string, any>;

const home = mkdtempSync(join(tmpdir(), 'astore-k8s-home-'));
after(() => rmSync(home, { recursive: true, force: true }));

/**
 * An ASTORE_HOME without a config.yaml, and no STORE_BACKUP_* from the environment running the
 * tests (blank counts as unset): the settings are then the defaults unless a test sets them.
 */
export function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const blank = Object.fromEntries(Object.keys(process.env).filter((k) => k.startsWith('STORE_BACKUP_')).map((k) => [k, '']));
  return { ...blank, ASTORE_HOME: home, ...extra };
}

export async function manifests(args: string[], env: NodeJS.ProcessEnv = cleanEnv()): Promise<CliRun> {
  return runAstore(['k8s', 'manifests', ...args], env, 60_000);
}

export function parseObjects(yaml: string): Obj[] {
  return parseAllDocuments(yaml).map((d) => {
    assert.equal(d.errors.length, 0, d.errors.join('\n'));
    return d.toJS() as Obj;
  });
}

export async function objects(args: string[], env?: NodeJS.ProcessEnv): Promise<Obj[]> {
  const r = await manifests(args, env);
  assert.equal(r.code, 0, r.output);
  return parseObjects(r.stdout);
}

export function find(objs: Obj[], kind: string, name: string): Obj {
  const found = objs.find((o) => o.kind === kind && o.metadata?.name === name);
  assert.ok(found, `no ${kind} ${name} among ${objs.map((o) => `${o.kind}/${o.metadata?.name}`).join(', ')}`);
  return found;
}

/** Every pod template of the output, with where it came from. */
export function podTemplates(objs: Obj[]): Array<{ owner: string; template: Obj }> {
  return objs.flatMap((o) => {
    const template = o.kind === 'CronJob' ? o.spec.jobTemplate.spec.template : o.spec?.template;
    return template ? [{ owner: `${o.kind}/${o.metadata.name}`, template }] : [];
  });
}

/** Every container (init containers too) with its pod's volumes. */
export function containers(objs: Obj[]): Array<{ owner: string; container: Obj; volumes: Obj[] }> {
  return podTemplates(objs).flatMap(({ owner, template }) => [...(template.spec.initContainers ?? []), ...template.spec.containers]
    .map((container: Obj) => ({ owner: `${owner}/${container.name}`, container, volumes: template.spec.volumes ?? [] })));
}
