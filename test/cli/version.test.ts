/** `astore -V` is the package's version however the CLI is started (npm sets npm_package_version only for its own scripts). */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { runAstore } from '../support/cli.ts';

test('astore -V prints package.json\'s version, not an inherited npm_package_version', async () => {
  const { version } = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'package.json'), 'utf8')) as { version: string };
  const r = await runAstore(['-V'], { npm_package_version: '9.9.9-from-another-package' });
  assert.equal(r.code, 0, r.output);
  assert.equal(r.stdout, `${version}\n`);
});
