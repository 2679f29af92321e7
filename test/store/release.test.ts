/** The schema-release check of the commands that do not migrate: its hint matches the way out. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertCurrentRelease, CURRENT_RELEASE, MIGRATIONS } from '../../src/store/index.ts';

test('an older or missing schema says to migrate; one written by a newer release says to run that release', () => {
  assert.doesNotThrow(() => assertCurrentRelease(CURRENT_RELEASE));
  for (const older of [undefined, MIGRATIONS[0]!.release]) {
    assert.throws(() => assertCurrentRelease(older), (e: any) => e.code === 'SCHEMA_NOT_CURRENT' && e.exitCode === 4 && /astore migrate/.test(e.hint));
  }
  assert.throws(() => assertCurrentRelease('99.0.0'), (e: any) => e.code === 'SCHEMA_NOT_CURRENT' && /newer release \(99\.0\.0\)/.test(e.hint) && !/migrate/.test(e.hint));
});
