/**
 * The upgrade-path rule: a backup may be restored into its own release line or the next two (the
 * seeds' table lets 4.8.x go to 5.0.x or 5.1.x), never into an older line; a refused path names the
 * line to go through. Checked on this store's table and on the seeds' own, which has more lines.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { checkUpgradePath } from '../../src/store/index.ts';

function refusal(fn: () => void): { message: string; hint: string } {
  try {
    fn();
  } catch (err) {
    const e = err as { code?: string; message: string; hint?: string; exitCode?: number };
    assert.equal(e.code, 'UPGRADE_PATH_UNSUPPORTED');
    assert.equal(e.exitCode, 4);
    return { message: e.message, hint: e.hint ?? '' };
  }
  assert.fail('the path was accepted');
}

describe('upgrade paths', () => {
  test("this store's table: every known release restores into 1.2.x; nothing goes back a line", () => {
    for (const from of ['1.0.0', '1.1.0', '1.2.0', '1.2.1']) checkUpgradePath(from, '1.2.1');
    checkUpgradePath('1.0.0', '1.1.0');
    const back = refusal(() => checkUpgradePath('1.2.0', '1.1.0'));
    assert.match(back.message, /from release 1\.2\.x to 1\.1\.x is not supported/);
    assert.match(back.hint, /supported targets from 1\.2\.x: 1\.2\.x$/);
    const unknown = refusal(() => checkUpgradePath('1.3.0', '1.2.1'));
    assert.match(unknown.message, /schema release 1\.3\.0, which this store \(1\.2\.1\) does not know/);
    assert.match(unknown.hint, /store release that wrote it \(1\.3\.0\) or newer/);
  });

  test("the seeds' table: one line may be skipped, two may not, and the refusal names the stop", () => {
    const seeds = [
      { from: '5.0.x', to: ['5.1.x'] },
      { from: '4.8.x', to: ['5.0.x', '5.1.x'] },
      { from: '4.7.x', to: ['4.8.x', '5.0.x'] },
      { from: '4.6.x', to: ['4.7.x', '4.8.x'] },
    ];
    checkUpgradePath('4.8.3', '5.1.0', seeds);
    checkUpgradePath('4.6.5', '4.8.1', seeds);
    const twoLines = refusal(() => checkUpgradePath('4.6.5', '5.0.2', seeds));
    assert.match(twoLines.message, /from release 4\.6\.x to 5\.0\.x/);
    assert.match(twoLines.hint, /into a 4\.7\.x store first, take a new backup there/);
    assert.match(refusal(() => checkUpgradePath('4.6.5', '5.1.0', seeds)).hint, /into a 4\.8\.x store first/);
    assert.match(refusal(() => checkUpgradePath('5.0.1', '4.8.0', seeds)).hint, /supported targets from 5\.0\.x: 5\.1\.x$/);
  });
});
