/** What a driver error says about reaching the database, in the store's terms. */
import type { PgConnection } from '../config/index.ts';
import { AppError } from '../errors/index.ts';

/**
 * Whether `err` says the database cannot be reached right now (server stopped, restarting, network
 * gone) rather than that a statement was wrong: the pool reconnects by itself once it is back.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown };
  const code = typeof e?.code === 'string' ? e.code : '';
  if (['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE'].includes(code)) return true;
  // SQLSTATE class 08 (connection exception); 57P01-57P03: admin or crash shutdown, cannot connect now.
  if (/^08[0-9A-Z]{3}$/.test(code) || code === '57P01' || code === '57P02' || code === '57P03') return true;
  // pg-pool's own wording when connectionTimeoutMillis runs out.
  return typeof e?.message === 'string' && /^Connection terminated|^timeout exceeded when trying to connect/.test(e.message);
}

/** Turns a driver error into one that says which part of connecting failed. */
export function describeConnectionError(err: unknown, c: PgConnection): AppError {
  const e = err as { code?: string; message?: string };
  const where = `${c.user}@${c.host}:${c.port}/${c.database}`;
  const msg = e.message ?? String(err);
  const table: Array<[boolean, string, string, string]> = [
    [e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN', 'PG_DNS', `cannot resolve host ${c.host}`, 'check the host name in postgres.yaml / DATABASE_URL'],
    [e.code === 'ECONNREFUSED', 'PG_REFUSED', `connection refused by ${c.host}:${c.port}`, 'is PostgreSQL running and listening on that address and port?'],
    [e.code === 'ETIMEDOUT' || /^timeout exceeded when trying to connect/.test(msg), 'PG_TIMEOUT', `connection to ${c.host}:${c.port} timed out`, 'check the network path and firewall'],
    // The server's access rules, checked before the TLS wording: their message ends in "SSL off" or
    // "no encryption", and neither is a handshake that failed nor a wrong password.
    [e.code === '28000' && /pg_hba\.conf/.test(msg), 'PG_HBA', `the server's pg_hba.conf does not let ${where} in: ${msg}`,
      /SSL off|no encryption/.test(msg) && !c.ssl
        ? 'the server may want TLS for this connection: set PG_CA_FILE to its CA (verified), or add ?sslmode=require to DATABASE_URL (encrypted, not verified)'
        : `have the DBA add a pg_hba.conf line for user ${c.user}, database ${c.database} from this host (and reload the server)`],
    [/does not support SSL/i.test(msg), 'PG_TLS', `TLS was asked of ${c.host}:${c.port}: ${msg}`,
      'the server does not offer TLS: enable ssl on it, or connect without (unset PG_CA_FILE, drop sslmode from DATABASE_URL)'],
    [/certificate|self.signed|SSL|TLS|altnames/i.test(msg), 'PG_TLS', `TLS handshake with ${c.host}:${c.port} failed: ${msg}`, 'check PG_CA_FILE: it must be the CA that signed the server certificate, and the host must match the certificate'],
    [e.code === '28P01' || e.code === '28000', 'PG_AUTH', `authentication failed for ${where}: ${msg}`, 'check su_username / su_password (or the URL credentials)'],
    [e.code === '3D000', 'PG_NO_DATABASE', `database ${c.database} does not exist on ${c.host}:${c.port}`, 'create it or fix the database name'],
    // While connecting, 42501 means the role may not connect to this database at all.
    [e.code === '42501', 'PG_PERMISSION', `permission denied for ${where}: ${msg}`,
      `have the DBA run GRANT CONNECT ON DATABASE "${c.database}" TO "${c.user}" (PUBLIC's CONNECT was revoked), or connect as a role that may (su_username)`],
  ];
  for (const [match, code, message, hint] of table) {
    if (match) return new AppError(code, message, { hint, exitCode: 3, cause: err });
  }
  return new AppError('PG_CONNECT', `cannot connect to ${where}: ${msg}`, { exitCode: 3, cause: err });
}
