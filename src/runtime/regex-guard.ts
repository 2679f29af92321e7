/**
 * Regular expressions a workspace's author wrote (entity patterns; the dialog's matches, find,
 * extract, split and replaceAll) run on V8's backtracking engine, where a pattern such as
 * `(a+)+$` takes time exponential in the input: one /message of 30 characters held the event
 * loop, and every other tenant's requests, for seconds. V8's linear-time engine cannot run them
 * (it refuses the `i` and `u` flags), so they run in one worker thread instead, each call with a
 * time budget that the caller waits for synchronously (Atomics.wait on a shared flag). A call
 * over budget has its worker terminated — V8 interrupts a running regular expression — and fails
 * with RegexTimeout; the next call starts a new worker.
 */
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';

/** Per call. Patterns a skill needs finish in well under a millisecond on the 2048-character input limit. */
const BUDGET_MS = 100;
/**
 * Added per request in a call. A regular expression runs interpreted, about 10 µs each, until V8
 * has compiled it, a few calls later: a workspace of 10,000 patterns took the whole budget on its
 * first turn, the worker was replaced, and the next turn started cold again, so its patterns
 * never matched. Runaway backtracking still ends in the budget (and a second per 20,000 patterns).
 */
const PER_REQUEST_MS = 0.05;
/** A worker's start (tens of milliseconds) is not counted against the first call's budget. */
const START_MS = 10_000;

export class RegexTimeout extends Error {}

/** One match: its start, its groups' texts (undefined for a group that took no part), and their spans. */
export interface RegexMatch {
  index: number;
  groups: Array<string | undefined>;
  indices: Array<[number, number] | undefined>;
}

export type RegexRequest =
  | { op: 'matchAll'; source: string; flags: string; text: string }
  | { op: 'test'; source: string; flags: string; text: string }
  | { op: 'split'; source: string; flags: string; text: string }
  /** Replaced only if the result has at most `max` characters; otherwise its would-be length is returned. */
  | { op: 'replace'; source: string; flags: string; text: string; replacement: string; max: number };

// Plain JavaScript run with eval (no loader in a worker); errors are passed back by message.
const WORKER = `
const { workerData } = require('node:worker_threads');
const { state, port } = workerData;
function run(r) {
  const re = new RegExp(r.source, r.flags);
  switch (r.op) {
    case 'matchAll': return [...r.text.matchAll(re)].map((m) => ({ index: m.index, groups: [...m], indices: m.indices ? [...m.indices] : [] }));
    case 'test': return re.test(r.text);
    case 'split': return r.text.split(re);
    case 'replace': {
      let n = 0;
      for (const _ of r.text.matchAll(re)) n++;
      const length = r.text.length + n * r.replacement.length;
      return length > r.max ? { length } : r.text.replace(re, r.replacement);
    }
  }
  throw new Error('unknown op ' + r.op);
}
port.on('message', (requests) => {
  let reply;
  try { reply = { results: requests.map(run) }; } catch (e) { reply = { error: String(e && e.message) }; }
  port.postMessage(reply);
  Atomics.store(state, 0, 1);
  Atomics.notify(state, 0);
});
Atomics.store(state, 1, 1);
Atomics.notify(state, 1);
`;

interface Sandbox { worker: Worker; port: MessagePort; state: Int32Array }

let sandbox: Sandbox | undefined;

function start(): Sandbox {
  const state = new Int32Array(new SharedArrayBuffer(8));
  const { port1, port2 } = new MessageChannel();
  const worker = new Worker(WORKER, { eval: true, workerData: { state, port: port2 }, transferList: [port2] });
  // Neither may keep a process alive that is otherwise done.
  worker.unref();
  port1.unref();
  worker.on('error', () => { if (sandbox?.worker === worker) sandbox = undefined; });
  if (Atomics.wait(state, 1, 0, START_MS) === 'timed-out') {
    void worker.terminate();
    throw new RegexTimeout('the regular-expression worker did not start');
  }
  return { worker, port: port1, state };
}

/**
 * Runs the requests in the worker, in order, within one budget; the results in the same order.
 * A regular expression that does not compile throws SyntaxError, as `new RegExp` would.
 */
export function runGuarded(requests: RegexRequest[]): unknown[] {
  if (requests.length === 0) return [];
  const s = (sandbox ??= start());
  Atomics.store(s.state, 0, 0);
  s.port.postMessage(requests);
  const budget = Math.round(BUDGET_MS + requests.length * PER_REQUEST_MS);
  if (Atomics.wait(s.state, 0, 0, budget) === 'timed-out') {
    sandbox = undefined;
    void s.worker.terminate();
    throw new RegexTimeout(requests.length === 1 ? `a regular expression took more than ${budget} ms` : `${requests.length} regular expressions took more than ${budget} ms`);
  }
  const reply = receiveMessageOnPort(s.port)?.message as { results?: unknown[]; error?: string } | undefined;
  if (!reply?.results) throw new SyntaxError(reply?.error ?? 'the regular-expression worker gave no answer');
  return reply.results;
}
