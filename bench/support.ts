/** Shared bench plumbing: a private PostgreSQL with one database, removed afterwards. */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startCluster } from '../src/store/index.ts';

export interface BenchDb { url: string; root: string; dataDir: string; close(): Promise<void> }

export async function benchDatabase(name: string): Promise<BenchDb> {
  const root = mkdtempSync(join(tmpdir(), `astore-bench-${name}-`));
  const cluster = await startCluster({ dataDir: join(root, 'pg'), password: 'bench', port: 0, settings: { fsync: 'off', synchronous_commit: 'off' } });
  const admin = new pg.Client({ connectionString: cluster.url('postgres') });
  await admin.connect();
  await admin.query('create database bench');
  await admin.end();
  return { url: cluster.url('bench'), root, dataDir: join(root, 'pg'), async close() { await cluster.stop(); rmSync(root, { recursive: true, force: true }); } };
}

/** CPU time (user + system, ms) a process has used so far; 0 once it is gone. Linux /proc. */
export function cpuMs(pid: number): number {
  try {
    // Fields after the parenthesised command name: state is 3rd, utime 14th, stime 15th (1-based).
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // USER_HZ is 100 on Linux
  } catch {
    return 0;
  }
}

/** CPU time (ms) of a cluster's postmaster and its live children (backends, background workers). */
export function clusterCpuMs(dataDir: string): number {
  const postmaster = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  let total = cpuMs(postmaster);
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const ppid = Number(readFileSync(`/proc/${d}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]);
      if (ppid === postmaster) total += cpuMs(Number(d));
    } catch { /* exited meanwhile */ }
  }
  return total;
}

export const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};

/** Generated training data: `intents` intents of `examples` examples over a shared vocabulary. */
export function generatedIntents(seed: number, intents: number, examples: number): Array<{ intent: string; examples: Array<{ text: string }> }> {
  const verbs = ['order', 'cancel', 'track', 'return', 'pay', 'change', 'find', 'open', 'close', 'book', 'renew', 'report'];
  const nouns = ['pizza', 'account', 'card', 'parcel', 'ticket', 'flight', 'room', 'invoice', 'password', 'address', 'plan', 'device'];
  const frames = ['how do I {v} my {n}', 'I want to {v} a {n}', 'can you {v} the {n} for me', 'please {v} {n} now', '{v} {n} {w}', 'help me {v} my {n} {w}'];
  let s = seed >>> 0;
  const rnd = (n: number): number => { s = (s * 1664525 + 1013904223) >>> 0; return s % n; };
  return Array.from({ length: intents }, (_, i) => {
    const v = verbs[i % verbs.length]!;
    const n = nouns[Math.floor(i / verbs.length) % nouns.length]!;
    const texts = new Set<string>();
    while (texts.size < examples) {
      texts.add(frames[rnd(frames.length)]!.replace('{v}', v).replace('{n}', n).replace('{w}', `${nouns[rnd(nouns.length)]} ${rnd(100)}`) + (texts.size ? ` ${texts.size}` : ''));
    }
    return { intent: `${v}_${n}_${i}`, examples: [...texts].map((text) => ({ text })) };
  });
}

export { rmSync };
