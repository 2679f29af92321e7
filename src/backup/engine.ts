/**
 * What produces the archive bytes. The default engine streams `pg_dump -Fc` of the database into
 * the sink; the engine is a parameter so the scheduler and retention do not depend on how the
 * archive is made.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { PgConnection } from '../config/index.ts';
import { AppError } from '../errors/index.ts';

export interface DumpStats { tables: number | undefined; rows: number | undefined }

export interface DumpRequest {
  connection: PgConnection;
  sink: Writable;
  onProgress?: ((bytes: number) => void) | undefined;
}

export type DumpEngine = (req: DumpRequest) => Promise<DumpStats>;

function libpqEnv(c: PgConnection): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, PGPASSWORD: c.password };
  if (c.ssl) {
    env.PGSSLMODE = c.ssl.rejectUnauthorized === false ? 'require' : 'verify-full';
    if (process.env.PG_CA_FILE) env.PGSSLROOTCERT = process.env.PG_CA_FILE;
  }
  return env;
}

export const pgDumpEngine: DumpEngine = async ({ connection: c, sink }) => {
  const child = spawn('pg_dump', ['-Fc', '-h', c.host, '-p', String(c.port), '-U', c.user, '-d', c.database, '--no-password'], {
    env: libpqEnv(c), stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
  const exited = once(child, 'close') as Promise<[number | null, NodeJS.Signals | null]>;
  try {
    await pipeline(child.stdout, sink);
  } catch (err) {
    child.kill('SIGTERM');
    throw err;
  }
  const [code, signal] = await exited;
  if (code !== 0) {
    throw new AppError('BACKUP_DUMP_FAILED', `pg_dump of ${c.database} on ${c.host}:${c.port} failed (${signal ?? `exit ${code}`}): ${stderr.trim()}`, { exitCode: 1 });
  }
  return { tables: undefined, rows: undefined };
};
