/**
 * Mapping-file and mapping-prompt checks that need no archive or target:
 *  - instance ids are compared lower-cased, so one backed-up instance written twice in different
 *    case was two YAML keys that became one entry, the later one silently winning;
 *  - the answers to the prompt are saved as enteredMapping.yaml in the working directory; one
 *    where that file cannot be written failed only after every question had been answered, with
 *    a bare stack trace (exit 1), throwing the answers away.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { readMappingFile, resolveMapping } from '../../src/restore/index.ts';

const sources = [
  { id: '00000000-0000-4000-8000-0000000000aa', name: 'one', workspaces: 1 },
  { id: '00000000-0000-4000-8000-0000000000bb', name: 'two', workspaces: 2 },
];
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

describe('mapping prompt', () => {
  test('a working directory where enteredMapping.yaml cannot be written is refused before the first question', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pgmig-map-'));
    try {
      writeFileSync(join(dir, 'a-file'), '');
      const input = new PassThrough();
      let asked = false;
      const origWrite = process.stderr.write.bind(process.stderr);
      process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
        if (String(chunk).includes('goes to:')) asked = true;
        return (origWrite as (...a: unknown[]) => boolean)(chunk, ...rest);
      }) as typeof process.stderr.write;
      input.write('1\n');
      setTimeout(() => input.end('1\n'), 50); // typed after the second question is asked
      try {
        await assert.rejects(resolveMapping(sources, targets, { interactive: true, cwd: join(dir, 'a-file'), input }),
          (err: Err) => err.code === 'MAPPING_NOT_SAVABLE' && err.exitCode === 2 && /enteredMapping\.yaml/.test(err.message!) && /-m FILE/.test(err.hint!));
      } finally {
        process.stderr.write = origWrite;
      }
      assert.equal(asked, false, 'no question is asked');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
