/**
 * `astore archive list|verify|sql FILE|-`: inspect pg_dump custom-format archives (ours or
 * pg_dump's) without PostgreSQL's client tools.
 */
import type { Command } from 'commander';
import { AppError } from '../../errors/index.ts';
import { printJson } from '../json.ts';
// The modules themselves rather than the archive index, which also pulls in the writer.
import { openArchive } from '../../archive/reader.ts';
import { formatListing } from '../../archive/listing.ts';
import { verifyArchive, type VerifyReport } from '../../archive/verify.ts';
import { writeSqlScript } from '../../archive/sql.ts';
import { createWriteStream } from 'node:fs';
import { open, realpath } from 'node:fs/promises';
import { once } from 'node:events';
import { dirname } from 'node:path';
import type { Writable } from 'node:stream';
// Also the modules themselves, light ones, rather than indexes that pull in pg.
import { AtomicFile } from '../../backup/atomic-file.ts';
import { outputFile } from '../../store/files.ts';
import { removePartialOnSignal } from '../interrupt.ts';
import { humanBytes } from '../output.ts';

function printVerify(r: VerifyReport): void {
  const out: string[] = [];
  out.push(`archive: ${r.source}`);
  out.push(`version: ${r.version ?? '?'}  compression: ${r.compression ?? '?'}  TOC entries: ${r.entries}`);
  const width = Math.max(5, ...r.tables.map((t) => `${t.schema}.${t.table}`.length));
  if (r.tables.length > 0) {
    out.push(`${'table'.padEnd(width)}  ${'rows'.padStart(12)}  ${'data'.padStart(12)}  ${'stored'.padStart(12)}`);
    for (const t of r.tables) out.push(`${`${t.schema}.${t.table}`.padEnd(width)}  ${String(t.rows).padStart(12)}  ${humanBytes(t.rawBytes).padStart(12)}  ${humanBytes(t.storedBytes).padStart(12)}`);
  }
  if (r.largeObjects.count > 0) out.push(`large objects: ${r.largeObjects.count} (${humanBytes(r.largeObjects.bytes)})`);
  out.push(`total: ${r.tables.length} tables, ${r.tables.reduce((a, t) => a + t.rows, 0)} rows, ${humanBytes(r.rawBytes)} of data, ${humanBytes(r.storedBytes)} stored, archive ${humanBytes(r.archiveBytes)}${r.defects.length ? ' read before the first defect' : ''}`);
  for (const d of r.defects) out.push(`DEFECT [${d.code}] ${d.message}`);
  out.push(r.ok ? 'OK' : `FAILED: ${r.defects.length} defect(s)`);
  process.stdout.write(out.join('\n') + '\n');
}

export function register(program: Command): void {
  const archive = program.command('archive').description('inspect pg_dump custom-format archives (files or - for stdin)');

  archive.command('list')
    .description('print the table of contents, like `pg_restore --list`')
    .argument('<file>', 'archive file, or - for stdin')
    .action(async (file: string) => {
      const r = await openArchive(file);
      try {
        process.stdout.write(formatListing(r.header, r.entries));
      } finally {
        await r.close();
      }
    });

  archive.command('verify')
    .description('read the whole archive, check structure and compression, print rows and bytes per table; exit 2 on any defect')
    .argument('<file>', 'archive file, or - for stdin')
    .option('--json', 'print the report as JSON')
    .action(async (file: string, opts: { json?: boolean }) => {
      const report = await verifyArchive(file);
      if (opts.json) printJson(report);
      else printVerify(report);
      if (!report.ok) {
        const first = report.defects[0]!;
        if (opts.json) { process.exitCode = 2; return; }
        throw new AppError('ARCHIVE_VERIFY_FAILED', `archive ${report.source} has ${report.defects.length} defect(s); first: ${first.message}`, {
          hint: first.hint ?? 'the archive is damaged, or was not written by pg_dump or astore backup; restore from another copy (`astore backups list --verify` shows which backups are intact)',
          exitCode: 2,
        });
      }
    });

  archive.command('sql')
    .description('convert the archive to a plain SQL script, like `pg_restore -f -`')
    .argument('<file>', 'archive file, or - for stdin')
    .option('-f, --file <out>', 'write the script to this file instead of stdout')
    .action(async (file: string, opts: { file?: string }) => {
      if (opts.file && opts.file !== '-') {
        removePartialOnSignal(`nothing was written to ${opts.file}`);
        await writeSqlFile(file, opts.file);
      }
      else await writeSqlScript(file, process.stdout);
    });
}

/**
 * `archive sql -f OUT`: OUT gets the whole script or is left as it was. The script is written under
 * a temporary name and renamed once the archive has been read to its end, so a damaged archive
 * (found only on the way) leaves no partial script, and an existing OUT is not emptied before the
 * archive has even been opened. A device or named pipe is written into, as the backup's -o is.
 */
async function writeSqlFile(input: string, output: string): Promise<void> {
  const invalid = (why: string, hint: string, cause?: unknown): AppError =>
    new AppError('SQL_TARGET_INVALID', `cannot write the script to ${output}: ${why}`, { hint, exitCode: 2, cause });
  const target = await outputFile(output, { code: 'SQL_TARGET_INVALID', what: 'the script', file: 'the script', option: '-f', example: 'script.sql' });
  if (target.kind === 'file' && input !== '-' && (await realpath(input).catch(() => undefined)) === target.path) {
    throw invalid('it is the archive being read', 'give the script another name (-f script.sql)');
  }
  if (target.kind === 'stream') return writeScriptTo(input, createWriteStream(target.path));
  const file = new AtomicFile(target.path);
  try {
    const handle = await open(file.tempPath, 'wx', 0o600).catch((err: Error) => {
      throw invalid(err.message, `check that ${dirname(target.path)} exists and is writable`, err);
    });
    await writeScriptTo(input, handle.createWriteStream());
    await file.commit();
  } catch (err) {
    await file.abort();
    throw err;
  }
}

/** The script into `out`, ended and flushed; a write error (a full disk) fails it rather than going unheard. */
async function writeScriptTo(input: string, out: Writable): Promise<void> {
  const failed = new Promise<never>((_, reject) => out.once('error', reject));
  await Promise.race([failed, (async () => {
    await writeSqlScript(input, out);
    out.end();
    await once(out, 'finish');
  })()]);
}
