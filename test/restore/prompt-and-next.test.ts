/**
 * The operator-facing edges of pgmig that need no archive: aborting the mapping prompt, and the
 * next steps it prints after a restore that brought data under another encryption key.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { ENTERED_MAPPING_FILE, nextSteps, resolveMapping } from '../../src/restore/index.ts';

const sources = [
  { id: '00000000-0000-4000-8000-000000000001', name: 'one', workspaces: 1 },
  { id: '00000000-0000-4000-8000-000000000002', name: 'two', workspaces: 2 },
];
const targets = [
  { id: '10000000-0000-4000-8000-000000000001', name: 'x', workspaces: 0 },
  { id: '10000000-0000-4000-8000-000000000002', name: 'y', workspaces: 0 },
];

describe('the mapping prompt', () => {
  test('input that ends before every instance is mapped: RESTORE_ABORTED (exit 8), no mapping saved', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'pgmig-prompt-'));
    try {
      const input = new PassThrough();
      input.write('1\n'); // the first instance is answered, the second never is
      setTimeout(() => input.end(), 50);
      await assert.rejects(resolveMapping(sources, targets, { interactive: true, cwd, input }),
        (err: { code?: string; exitCode?: number; message?: string; hint?: string }) => err.code === 'RESTORE_ABORTED' && err.exitCode === 8
          && /nothing was changed/.test(err.message!) && /-m FILE/.test(err.hint!));
      assert.ok(!existsSync(join(cwd, ENTERED_MAPPING_FILE)));
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });

  test('input that ends with no question pending: RESTORE_ABORTED too', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'pgmig-prompt-'));
    try {
      const input = new PassThrough();
      input.end('1\n');
      await assert.rejects(resolveMapping(sources, targets, { interactive: true, cwd, input }), { code: 'RESTORE_ABORTED' });
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });

  test('answered in full: the mapping is saved', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'pgmig-prompt-'));
    try {
      const input = new PassThrough();
      input.write('2\n');
      setTimeout(() => input.end(`${targets[0]!.id}\n`), 50); // typed after the second question is asked
      const r = await resolveMapping(sources, targets, { interactive: true, cwd, input });
      assert.deepEqual([...r.mapping], [[sources[0]!.id, targets[1]!.id], [sources[1]!.id, targets[0]!.id]]);
      assert.equal(r.savedTo, join(cwd, ENTERED_MAPPING_FILE));
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });

  test('answers typed ahead are kept, and a target keeps its number from question to question', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'pgmig-prompt-'));
    const three = [...sources, { id: '00000000-0000-4000-8000-000000000003', name: 'three', workspaces: 3 }];
    const targets3 = [...targets, { id: '10000000-0000-4000-8000-000000000003', name: 'z', workspaces: 0 }];
    try {
      const input = new PassThrough();
      // All at once, before the first question: a wrong answer, a taken target, then the choices by
      // the first list's numbers (with renumbering, "3" was out of range by the second question).
      input.end('zzz\n2\n2\n3\n1\n');
      const r = await resolveMapping(three, targets3, { interactive: true, cwd, input });
      assert.deepEqual([...r.mapping], [[three[0]!.id, targets3[1]!.id], [three[1]!.id, targets3[2]!.id], [three[2]!.id, targets3[0]!.id]]);
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });
});

describe('next steps after a restore', () => {
  test('same key as before: retrain, no restart', () => {
    const n = nextSteps('sha256:aaaa', 'sha256:aaaa');
    assert.equal(n.restartRequired, false);
    assert.match(n.next, /retrain-all/);
    assert.doesNotMatch(n.next, /restart/);
  });

  test('another key than the target recorded: restart serve and train-workers first, naming both keys', () => {
    for (const before of ['sha256:aaaa', null]) {
      const n = nextSteps(before, 'sha256:bbbb');
      assert.equal(n.restartRequired, true);
      assert.match(n.next, /^restart the target's `astore serve` \(and any `astore train-worker`\) now/);
      assert.match(n.next, /sha256:bbbb/);
      assert.match(n.next, before ? /sha256:aaaa/ : /none recorded/);
      assert.match(n.next, /retrain-all/);
    }
  });
});
