/** `astore -V` is the package's version however the CLI is started (npm sets npm_package_version only for its own scripts). */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { CURRENT_RELEASE } from '../../src/store/index.ts';
import { runAstore } from '../support/cli.ts';

// --version was refused (the flag was -V / --cli-version only); --cli-version still works.
for (const flag of ['-V', '--version', '--cli-version']) {
  test(`astore ${flag} prints package.json's version, not an inherited npm_package_version`, async () => {
    const { version } = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'package.json'), 'utf8')) as { version: string };
    const r = await runAstore([flag], { npm_package_version: '9.9.9-from-another-package' });
    assert.equal(r.code, 0, r.output);
    assert.equal(r.stdout, `${version}\n`);
  });
}

/**
 * The package is released as the store's release: the image tag the manifests default to, `-V`
 * and the release serve reports and pgmig's upgrade table speak of must not drift apart (the
 * package said 0.1.0 while the store was at 1.2.1). A release without a migration may go past the
 * schema's release; one with a migration of a newer release must not stay behind it.
 */
test('package.json\'s version is the store\'s schema release or newer', () => {
  const { version } = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'package.json'), 'utf8')) as { version: string };
  const parts = (v: string): number[] => v.split(/[.-]/).slice(0, 3).map(Number);
  const [a, b] = [parts(version), parts(CURRENT_RELEASE)];
  const cmp = a[0]! - b[0]! || a[1]! - b[1]! || a[2]! - b[2]!;
  assert.ok(cmp >= 0, `package.json says ${version}, the schema release is ${CURRENT_RELEASE}`);
});

