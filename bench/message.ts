/**
 * Message benchmark: one `astore serve` process (embedded-free: a private PostgreSQL) serving a
 * trained workspace; autocannon on loopback sends sustained /message requests with varied
 * utterances. Prints requests/s and latency percentiles. Target: >= 1,000 req/s at p99 < 20 ms
 * on 2 cores (the load tool shares those cores).
 *
 *   npm run bench:message [-- --seconds 15 --connections 16 --rate 1000 --other-workspaces 0 --message-logs 1]
 *
 * Message logs are on, as they are by default in `astore serve`; the run ends by counting the turns
 * logged (`--message-logs 0` measures without them).
 */
import { spawn } from 'node:child_process';
import { readFileSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import autocannon, { type Request } from 'autocannon';
import pg from 'pg';
import { createInstance, createToken } from '../src/auth/index.ts';
import { openStore } from '../src/store/index.ts';
import { arg, benchDatabase, clusterCpuMs, cpuMs } from './support.ts';

const seconds = arg('seconds', 15);
const connections = arg('connections', 16);
/** The sustained rate the latency target is judged at (requests/s across all connections). */
const rate = arg('rate', 1000);
/** Workspaces without models beside the benchmarked one, in the same instance. */
const otherWorkspaces = arg('other-workspaces', 0);
const messageLogs = arg('message-logs', 1) !== 0;
const db = await benchDatabase('message');
const home = mkdtempSync(join(db.root, 'home-'));
process.env.ASTORE_HOME = home;
const skill = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'test', 'fixtures', 'skills', 'coffee-shop.json'), 'utf8'));
const store = await openStore({ env: { DATABASE_URL: db.url }, migrate: true });
const instance = await createInstance(store.pool, 'bench', 'bench');
const { token } = await createToken(store.pool, 'bench');
// A store after a restore holds thousands of workspaces; the benchmarked one must be found among them.
if (otherWorkspaces > 0) {
  await store.pool.query(`insert into workspaces (id, instance_id, name, language)
    select gen_random_uuid(), $1, 'other ' || g, 'en' from generate_series(1, $2::int) g`, [instance.id, otherWorkspaces]);
  // Recorded as failed at their current data, so the trainer leaves them alone: this measures finding
  // the workspace, not training thousands of others.
  await store.pool.query(`insert into training_failures (workspace_id, failed_version, message)
    select id, training_version, 'bench filler' from workspaces where instance_id = $1`, [instance.id]);
  await store.pool.query('analyze workspaces');
}
await store.close();

const port = 18000 + Math.floor(Math.random() * 2000);
const server = spawn(process.execPath, [join(import.meta.dirname, '..', 'bin', 'astore'), 'serve', '--port', String(port), '--training-threads', '1'],
  { env: { ...process.env, DATABASE_URL: db.url, ASTORE_HOME: home, LOG_LEVEL: 'warn', ASTORE_MESSAGE_LOGS: String(messageLogs) }, stdio: ['ignore', 'pipe', 'inherit'] });
try {
  await new Promise<void>((resolve, reject) => {
    server.stdout.on('data', (d: Buffer) => { if (d.toString().includes('listening on')) resolve(); });
    server.on('exit', (c) => reject(new Error(`serve exited ${c}`)));
  });
  const base = `http://127.0.0.1:${port}/instances/${instance.id}/api/v1`;
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const created = await fetch(`${base}/workspaces?version=2021-11-27`, { method: 'POST', headers, body: JSON.stringify(skill) });
  const ws = ((await created.json()) as { workspace_id: string }).workspace_id;
  for (let i = 0; ; i++) {
    const st = ((await (await fetch(`${base}/workspaces/${ws}?version=2021-11-27`, { headers })).json()) as { status: string }).status;
    if (st === 'Available') break;
    if (i > 600) throw new Error('workspace did not train');
    await new Promise((r) => setTimeout(r, 100));
  }
  const utterances = (skill.intents as Array<{ examples: Array<{ text: string }> }>).flatMap((i) => i.examples.map((e) => e.text));
  utterances.push('what is the weather on mars', 'I would like a large latte', 'thanks, bye');
  const bodies = utterances.map((text) => JSON.stringify({ input: { text }, alternate_intents: true }));
  let n = 0;
  // Warm up the caches and the JIT, then measure.
  await autocannon({ url: `${base}/workspaces/${ws}/message?version=2021-11-27`, method: 'POST', headers, connections, duration: 3,
    requests: [{ setupRequest: (req: Request) => ({ ...req, body: bodies[n++ % bodies.length]! }) }] });
  const run = (overallRate?: number) => autocannon({
    url: `${base}/workspaces/${ws}/message?version=2021-11-27`, method: 'POST', headers, connections, duration: seconds,
    ...(overallRate ? { overallRate } : {}),
    requests: [{ setupRequest: (req: Request) => ({ ...req, body: bodies[n++ % bodies.length]! }) }],
  });
  const report = (label: string, r: autocannon.Result): boolean => {
    const bad = r.non2xx + r.errors;
    console.log(`${label}: ${r.requests.average.toFixed(0)} req/s over ${seconds} s, ${connections} connections, ${otherWorkspaces} other workspaces, ${r.requests.total} requests, ${bad} errors/non-2xx; ` +
      `latency ms p50 ${r.latency.p50} p90 ${r.latency.p90} p99 ${r.latency.p99} max ${r.latency.max}`);
    return bad === 0;
  };
  const max = await run();
  report('saturated (as fast as it goes)', max);
  // CPU per request in the sustained run, server and PostgreSQL apart: unlike latency, it barely moves
  // with other load on the machine, so it shows what a change costs.
  const cpu0 = { server: cpuMs(server.pid!), pg: clusterCpuMs(db.dataDir) };
  const fixed = await run(rate);
  const cpu1 = { server: cpuMs(server.pid!), pg: clusterCpuMs(db.dataDir) };
  const ok = report(`sustained at ${rate} req/s`, fixed);
  const per = (ms: number): string => `${((ms * 1000) / fixed.requests.total).toFixed(0)} µs`;
  console.log(`CPU per request (sustained run): server ${per(cpu1.server - cpu0.server)}, PostgreSQL ${per(cpu1.pg - cpu0.pg)}`);
  const met = ok && fixed.requests.average >= 0.98 * rate && rate >= 1000 && fixed.latency.p99 < 20;
  console.log(`target >= 1000 req/s at p99 < 20 ms: ${met ? 'met' : 'NOT met'} (max throughput ${(max.requests.average / 1000).toFixed(2)}x the target rate)`);
  // After a clean stop, which writes what the log writer still holds.
  server.kill('SIGTERM');
  await new Promise((r) => server.once('exit', r));
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  const logged = (await client.query('select count(*)::int as n from astore.message_logs')).rows[0].n;
  await client.end();
  const sent = max.requests.total + fixed.requests.total;
  console.log(`message logs: ${messageLogs ? 'on' : 'off'}; ${logged} turns logged (${sent} measured requests, plus warm-up)`);
} finally {
  if (server.exitCode === null && server.signalCode === null) {
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
  }
  await db.close();
}
