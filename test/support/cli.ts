/** Runs `bin/astore` as an operator would, for tests of the command line. */
import { spawn } from 'node:child_process';
import { join } from 'node:path';

const bin = join(import.meta.dirname, '..', '..', 'bin', 'astore');

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout and stderr interleaved as they arrived. */
  output: string;
  /** Still running after the time limit, and killed. */
  timedOut: boolean;
}

/** `astore ARGS` with `env` added to this process's environment, to its exit or `ms`, whichever comes first. */
export function runAstore(args: string[], env: NodeJS.ProcessEnv, ms = 60_000): Promise<CliRun> {
  const child = spawn(bin, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const run: CliRun = { code: null, stdout: '', stderr: '', output: '', timedOut: false };
  child.stdout.on('data', (d: Buffer) => { run.stdout += d; run.output += d; });
  child.stderr.on('data', (d: Buffer) => { run.stderr += d; run.output += d; });
  return new Promise((resolve) => {
    const timer = setTimeout(() => { run.timedOut = true; child.kill('SIGKILL'); }, ms);
    // 'close', not 'exit': the process can be gone before its stdout has been read to the end, and
    // on a busy machine a run then came back with exit 0 and no output.
    child.on('close', (code) => { clearTimeout(timer); run.code = code; resolve(run); });
  });
}
