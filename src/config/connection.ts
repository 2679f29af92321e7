/**
 * Where the database is. In order: an explicit postgres.yaml (`--postgres`), then the environment
 * (ASTORE_POSTGRES naming a postgres.yaml, or DATABASE_URL; not both), and otherwise the embedded
 * PostgreSQL under ASTORE_HOME. TLS to a configured server is verified against PG_CA_FILE when
 * that is set.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ConnectionOptions } from 'node:tls';
import { AppError } from '../errors/index.ts';
import { readPostgresYaml, type PostgresYaml } from './postgres-yaml.ts';

export interface PgConnection {
  host: string;
  port: number;
  database: string;
  user: string;
  password: string;
  ssl?: ConnectionOptions | undefined;
  /**
   * TLS only if the server offers it (sslmode prefer or allow): opening the database drops `ssl`
   * when the server answers that it has none, as libpq falls back.
   */
  tlsOptional?: boolean | undefined;
}

export type DatabaseTarget =
  | { kind: 'url'; connection: PgConnection; source: string }
  | { kind: 'embedded'; home: string };

export function astoreHome(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.ASTORE_HOME ?? '.astore');
}

/** TLS options from PG_CA_FILE: verify the server certificate against that CA (and its host name). */
export function tlsFromEnv(env: NodeJS.ProcessEnv = process.env): ConnectionOptions | undefined {
  const caFile = env.PG_CA_FILE;
  if (!caFile) return undefined;
  let ca: string;
  try {
    ca = readFileSync(caFile, 'utf8');
  } catch (err) {
    throw new AppError('TLS_CA_UNREADABLE', `PG_CA_FILE=${caFile} cannot be read: ${(err as Error).message}`, {
      hint: 'point PG_CA_FILE at the PEM file of the CA that signed the PostgreSQL server certificate (ca.crt)',
      exitCode: 2,
    });
  }
  return { ca, rejectUnauthorized: true };
}

export function connectionFromYaml(p: PostgresYaml, env: NodeJS.ProcessEnv = process.env): PgConnection {
  return { host: p.host, port: p.port, database: p.database, user: p.su_username, password: p.su_password, ssl: tlsFromEnv(env) };
}

export function connectionFromUrl(url: string, env: NodeJS.ProcessEnv = process.env): PgConnection {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new AppError('CONFIG_INVALID', 'DATABASE_URL is not a valid URL', {
      hint: 'use the form postgres://USER:PASSWORD@HOST:PORT/DATABASE', exitCode: 2,
    });
  }
  if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:') {
    throw new AppError('CONFIG_INVALID', `DATABASE_URL has protocol ${u.protocol}, expected postgres:`, {
      hint: 'use the form postgres://USER:PASSWORD@HOST:PORT/DATABASE', exitCode: 2,
    });
  }
  const { ssl: tls, tlsOptional } = tlsForMode(u.searchParams.get('sslmode'), env);
  return {
    // An IPv6 literal keeps its brackets in URL.hostname; the driver would look "[::1]" up as a name.
    host: urlPart(u.hostname, 'host').replace(/^\[(.*)\]$/, '$1') || '127.0.0.1',
    port: u.port ? Number(u.port) : 5432,
    database: urlPart(u.pathname.replace(/^\//, ''), 'database') || 'postgres',
    user: urlPart(u.username, 'user name') || 'postgres',
    password: urlPart(u.password, 'password'),
    ssl: tls, tlsOptional,
  };
}

const SSLMODES = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'];

/**
 * TLS for DATABASE_URL's sslmode, as libpq reads it. A misspelt mode used to turn TLS on silently,
 * prefer and allow failed against a server without TLS instead of going without, and verify-ca
 * checked the host name too. PG_CA_FILE verifies the server whatever the mode, but cannot be
 * combined with an explicit sslmode=disable.
 */
function tlsForMode(sslmode: string | null, env: NodeJS.ProcessEnv): { ssl: ConnectionOptions | undefined; tlsOptional: boolean } {
  if (sslmode !== null && !SSLMODES.includes(sslmode)) {
    throw new AppError('CONFIG_INVALID', `DATABASE_URL has sslmode=${sslmode}, which is not a mode PostgreSQL knows`, {
      hint: `use one of ${SSLMODES.join(', ')}`, exitCode: 2,
    });
  }
  const fromCa = tlsFromEnv(env);
  if (sslmode === 'disable' && fromCa) {
    throw new AppError('CONFIG_INVALID', 'DATABASE_URL says sslmode=disable, but PG_CA_FILE asks for a verified TLS connection', {
      hint: 'unset PG_CA_FILE to connect without TLS, or drop sslmode=disable from DATABASE_URL', exitCode: 2,
    });
  }
  if (fromCa) return { ssl: sslmode === 'verify-ca' ? { ...fromCa, checkServerIdentity: () => undefined } : fromCa, tlsOptional: false };
  switch (sslmode) {
    case null: case 'disable': return { ssl: undefined, tlsOptional: false };
    case 'allow': case 'prefer': return { ssl: { rejectUnauthorized: false }, tlsOptional: true };
    case 'require': return { ssl: { rejectUnauthorized: false }, tlsOptional: false };
    // The certificate chain against the system's CAs, but not the host name.
    case 'verify-ca': return { ssl: { rejectUnauthorized: true, checkServerIdentity: () => undefined }, tlsOptional: false };
    default: return { ssl: { rejectUnauthorized: true }, tlsOptional: false };
  }
}

/**
 * A percent-decoded part of DATABASE_URL. The URL parser lets a `%` that starts no escape through
 * (a password such as `50%off`), and decodeURIComponent then threw a bare URIError. The value is
 * never quoted back: for the password it is the secret itself.
 */
function urlPart(raw: string, what: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new AppError('CONFIG_INVALID', `the ${what} in DATABASE_URL is not valid percent-encoding`, {
      hint: 'percent-encode special characters in DATABASE_URL: % as %25, @ as %40, / as %2F, : as %3A, # as %23, ? as %3F', exitCode: 2,
    });
  }
}

export function connectionUrl(c: PgConnection): string {
  const host = c.host.includes(':') ? `[${c.host}]` : c.host;
  return `postgres://${encodeURIComponent(c.user)}:${encodeURIComponent(c.password)}@${host}:${c.port}/${encodeURIComponent(c.database)}`;
}

export interface TargetOptions { postgres?: string | undefined; env?: NodeJS.ProcessEnv }

export function resolveTarget(opts: TargetOptions = {}): DatabaseTarget {
  const env = opts.env ?? process.env;
  if (opts.postgres) return { kind: 'url', connection: connectionFromYaml(readPostgresYaml(opts.postgres), env), source: opts.postgres };
  // In a pod the connection comes from the environment, so that a command run there by hand
  // (`kubectl exec … astore backup`) reaches the deployment's database as its own processes do.
  if (env.ASTORE_POSTGRES && env.DATABASE_URL) {
    throw new AppError('CONFIG_INVALID', 'both ASTORE_POSTGRES and DATABASE_URL are set: which database is meant is unclear', {
      hint: 'unset one of them, or pass --postgres FILE to choose for this command', exitCode: 2,
    });
  }
  if (env.ASTORE_POSTGRES) return { kind: 'url', connection: connectionFromYaml(readPostgresYaml(env.ASTORE_POSTGRES), env), source: env.ASTORE_POSTGRES };
  if (env.DATABASE_URL) return { kind: 'url', connection: connectionFromUrl(env.DATABASE_URL, env), source: 'DATABASE_URL' };
  return { kind: 'embedded', home: astoreHome(env) };
}
