/**
 * The application_name of every session this process opens (its pools, the dumper, a pg_dump it
 * runs), visible in pg_stat_activity. The pid suffix lets this process tell its own sessions from
 * another process's when deciding whether an embedded server it started may be stopped, even
 * while one of them is still busy (a dump interrupted by a signal).
 */
export function sessionName(role = 'astore'): string {
  return `${role} (pid ${process.pid})`;
}

/** A LIKE pattern matching every sessionName() of this process. */
export const OWN_SESSIONS_PATTERN = `% (pid ${process.pid})`;

/** The role of the session each process holds on an embedded server while it uses it. */
export const PRESENCE_ROLE = 'astore presence';

/** A LIKE pattern matching every process's presence session. */
export const PRESENCE_PATTERN = `${PRESENCE_ROLE} (pid %)`;
