/**
 * Every object `astore k8s manifests` emits is valid against the Kubernetes API schema (field
 * types, required fields), as published in the kubernetes-models package's JSON schemas: no
 * cluster is reachable here for `kubectl apply --dry-run=server`, and the other tests check the
 * objects only against what this CLI expects of them.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { CronJob } from 'kubernetes-models/batch/v1/CronJob';
import { PersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import { Service } from 'kubernetes-models/v1/Service';
import { objects, type Obj } from './helpers.ts';

const MODELS: Record<string, new (data: any) => { validate(): void }> = { Deployment, CronJob, PersistentVolumeClaim, Service };

const variants: string[][] = [
  ['--instance', 'wa'],
  ['--instance', 'wa', '--namespace', 'cpd', '--store-replicas', '3', '--training-replicas', '7', '--backup-storage', '1Ti',
    '--storage-class', 'fast', '--postgres-ca-secret', 'pg-ca', '--auto-retrain-all-schedule', '0 0 3 * * ?', '--run-as', '1001'],
];

for (const args of variants) {
  test(`the objects of ${args.join(' ')} validate against the Kubernetes schemas`, { timeout: 60_000 }, async () => {
    const objs: Obj[] = await objects(args);
    assert.deepEqual(objs.map((o) => o.kind).sort(), ['CronJob', 'Deployment', 'Deployment', 'Deployment', 'PersistentVolumeClaim', 'Service']);
    for (const o of objs) {
      const Model = MODELS[o.kind];
      assert.ok(Model, `no schema for ${o.kind}`);
      assert.doesNotThrow(() => new Model(o).validate(), `${o.kind}/${o.metadata?.name}`);
    }
  });
}

test('the check catches a wrongly typed or missing field', () => {
  assert.throws(() => new Deployment({ metadata: { name: 'x' }, spec: { replicas: 'two' as never, selector: {}, template: {} } }).validate(), /replicas must be integer/);
  assert.throws(() => new CronJob({ metadata: { name: 'x' }, spec: { schedule: '* * * * *', jobTemplate: { spec: { template: { spec: { containers: [{ image: 'a' } as never] } } } } } }).validate(), /must have required property name/);
});
