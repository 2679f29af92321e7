/**
 * The whole project, tests and benchmarks included, type-checks under its strict tsconfig. The
 * tests run through tsx, which strips types without checking them, so without this a type error
 * (e.g. an implicit any) passed `npm test` and CI.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { test } from 'node:test';

test('tsc --noEmit reports no errors', { timeout: 300_000 }, async () => {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const root = join(import.meta.dirname, '..');
  const out = await new Promise<{ code: number; text: string }>((resolve) => {
    execFile(process.execPath, [tsc, '--noEmit', '-p', root], { cwd: root, maxBuffer: 1 << 24 }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, text: stdout + stderr });
    });
  });
  assert.equal(out.code, 0, out.text);
});
