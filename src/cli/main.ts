import { Command, CommanderError } from 'commander';
import { isAppError, toError } from '../errors/index.ts';
import { commands } from './commands/index.ts';

export function buildProgram(): Command {
  const program = new Command('astore')
    .description('Assistant Store: Watson Assistant v1 compatible skill store with backup, restore and retraining')
    .version(process.env.npm_package_version ?? '0.1.0', '-V, --cli-version')
    .showHelpAfterError()
    .exitOverride();
  for (const register of commands) register(program);
  return program;
}

/** Runs the CLI; every failure becomes a message on stderr and a non-zero exit code. */
export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode;
      return;
    }
    reportError(err);
  }
}

export function reportError(err: unknown): void {
  if (isAppError(err)) {
    process.stderr.write(`error [${err.code}]: ${err.message}\n`);
    if (err.hint) process.stderr.write(`hint: ${err.hint}\n`);
    process.exitCode = err.exitCode;
  } else {
    const e = toError(err);
    process.stderr.write(`error: ${e.stack ?? e.message}\n`);
    process.exitCode = 1;
  }
}
