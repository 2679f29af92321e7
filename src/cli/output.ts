/** Shared CLI plumbing: opening the store for one command, and printing JSON or text. */
import { openStore, type OpenStoreOptions, type Store } from '../store/index.ts';

export { printJson, stdoutCarriesArchive } from './json.ts';

export async function withStore<T>(opts: OpenStoreOptions, fn: (store: Store) => Promise<T>): Promise<T> {
  const store = await openStore(opts);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

export function printTable(rows: Array<Record<string, unknown>>, columns: string[]): void {
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c] ?? '').length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  process.stdout.write(line(columns.map((c) => c.toUpperCase())) + '\n');
  for (const r of rows) process.stdout.write(line(columns.map((c) => String(r[c] ?? ''))) + '\n');
}

/** A byte count for people: 512 B, 40.2 KiB, 1.5 GiB (a fixed MiB printed small backups as 0.0 MiB). */
export function humanBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n; let u = 0;
  while (v >= 1024 && u < units.length - 1) { v /= 1024; u++; }
  return `${u === 0 ? v : v.toFixed(1)} ${units[u]}`;
}
