/**
 * Mapping-file checks that need no archive or target: instance ids are compared lower-cased, so
 * one backed-up instance written twice in different case was two YAML keys that became one entry,
 * the later one silently winning.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readMappingFile } from '../../src/restore/index.ts';

const targets = [
  { id: '10000000-0000-4000-8000-000000000001', name: 'x', workspaces: 0 },
  { id: '10000000-0000-4000-8000-000000000002', name: 'y', workspaces: 0 },
];

type Err = { code?: string; exitCode?: number; message?: string; hint?: string };

describe('mapping file', () => {
  test('one instance listed twice in different case is refused, naming it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pgmig-map-'));
    try {
      const file = join(dir, 'mapping.yaml');
      writeFileSync(file, `instance-mappings:
  00000000-0000-4000-8000-0000000000AA: ${targets[0]!.id}
  00000000-0000-4000-8000-0000000000aa: ${targets[1]!.id}
`);
      assert.throws(() => readMappingFile(file), (err: Err) => err.code === 'MAPPING_INVALID' && err.exitCode === 2
        && /00000000-0000-4000-8000-0000000000aa.*more than once/i.test(err.message!));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
