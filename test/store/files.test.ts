/**
 * writeAtomic (the key file, postgres.yaml, k8s manifests -o, secret export -o) onto what is not a
 * regular file. It renamed its temporary file over the name whatever was there: a device node
 * became a regular file (as /dev/null did under `backup -o`), a named pipe stopped being one, and
 * a symbolic link was replaced instead of the file it names.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { writeAtomic } from '../../src/store/index.ts';

const root = mkdtempSync(join(tmpdir(), 'astore-files-'));
after(() => rmSync(root, { recursive: true, force: true }));

describe('writeAtomic onto a link, a named pipe, a device or a directory', () => {
  it('a symbolic link stays a link; the file it names is replaced, and nothing is left beside either', async () => {
    const dir = mkdtempSync(join(root, 'link-'));
    mkdirSync(join(dir, 'real'));
    writeFileSync(join(dir, 'real', 'key.yaml'), 'old');
    symlinkSync(join('real', 'key.yaml'), join(dir, 'key.yaml'));
    await writeAtomic(join(dir, 'key.yaml'), 'new', 0o600);
    assert.ok(lstatSync(join(dir, 'key.yaml')).isSymbolicLink());
    assert.equal(readFileSync(join(dir, 'real', 'key.yaml'), 'utf8'), 'new');
    assert.equal(lstatSync(join(dir, 'real', 'key.yaml')).mode & 0o777, 0o600);
    assert.deepEqual(readdirSync(dir).sort(), ['key.yaml', 'real']);
    assert.deepEqual(readdirSync(join(dir, 'real')), ['key.yaml']);
  });

  it('a named pipe stays a pipe, and its reader gets the data', { timeout: 30_000 }, async () => {
    const dir = mkdtempSync(join(root, 'fifo-'));
    const fifo = join(dir, 'out');
    execFileSync('mkfifo', [fifo]);
    // With the old rename no writer ever opened the pipe, and the reader waited until the timeout.
    const written = writeAtomic(fifo, 'through the pipe');
    const read = readFile(fifo, 'utf8');
    await written;
    assert.equal(await read, 'through the pipe');
    assert.ok(lstatSync(fifo).isFIFO());
    assert.deepEqual(readdirSync(dir), ['out']);
  });

  it('a character device stays a device (a second /dev/null made for the test)', { skip: process.getuid?.() !== 0 && 'only root can make a device node' }, async () => {
    const dir = mkdtempSync(join(root, 'dev-'));
    const device = join(dir, 'null');
    execFileSync('mknod', ['-m', '666', device, 'c', '1', '3']);
    await writeAtomic(device, 'discarded', 0o600);
    const st = lstatSync(device);
    assert.ok(st.isCharacterDevice());
    assert.equal(st.mode & 0o777, 0o666);
    assert.deepEqual(readdirSync(dir), ['null']);
  });

  it('a directory is refused with EISDIR and left as it was', async () => {
    const dir = mkdtempSync(join(root, 'dir-'));
    mkdirSync(join(dir, 'taken'));
    await assert.rejects(writeAtomic(join(dir, 'taken'), 'x'), { code: 'EISDIR' });
    assert.ok(lstatSync(join(dir, 'taken')).isDirectory());
    assert.deepEqual(readdirSync(dir), ['taken']);
  });
});
