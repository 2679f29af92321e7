import { Command, CommanderError, Option } from 'commander';
import { PACKAGE_VERSION } from '../config/index.ts';
import { AppError, isAppError, toError } from '../errors/index.ts';
import { commandModules } from './commands/index.ts';
import { exitStoppingOwnServer, installSignalFallback, interrupted } from './interrupt.ts';
import { printJsonError } from './json.ts';


const USAGE_CODE = 'ARGUMENT_INVALID';
const USAGE_HINT = 'check the command line against the usage printed below (or the command\'s --help)';

/**
 * Builds the program with the command modules `argv` needs: only the one owning the named command,
 * or all of them when no known command is named (help, or a typo that commander should suggest a
 * correction for).
 */
export async function buildProgram(argv: string[] = []): Promise<Command> {
  const first = argv.slice(2).find((a) => !a.startsWith('-'));
  const owner = commandModules.find((m) => first !== undefined && m.names.includes(first));
  const program = new Command('astore')
    .description('Assistant Store: Watson Assistant v1 compatible skill store with backup, restore and retraining')
    .version(PACKAGE_VERSION, '-V, --version')
    // Root options only before the command: `astore restore --version` (pgmig -v) is restore's own.
    .enablePositionalOptions()
    // The flag's first name, still accepted (older scripts).
    .addOption(new Option('--cli-version').hideHelp())
    .showHelpAfterError()
    // Commander's own errors (an unknown option, a missing argument) in the form every other
    // failure takes; subcommands inherit this.
    .configureOutput({ outputError: (text, write) => write(`error [${USAGE_CODE}]: ${text.replace(/^error: /, '')}hint: ${USAGE_HINT}\n`) })
    .exitOverride();
  program.on('option:cli-version', () => {
    process.stdout.write(`${PACKAGE_VERSION}\n`);
    throw new CommanderError(0, 'commander.version', PACKAGE_VERSION);
  });
  const modules = await Promise.all((owner ? [owner] : commandModules).map((m) => m.load()));
  for (const m of modules) m.register(program);
  return program;
}

/** Runs the CLI; every failure becomes a message on stderr and a non-zero exit code. */
export async function main(argv: string[]): Promise<void> {
  process.stdout.on('error', onStdoutError);
  installSignalFallback();
  const program = await buildProgram(argv);
  let json = false;
  program.hook('preAction', (_, action) => {
    json = action.opts().json === true;
    refuseEmptyValues(action);
  });
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander ends a usage mistake with 1; here 1 is an internal error and 2 bad input.
      process.exitCode = err.exitCode === 0 ? 0 : 2;
      // Help and -V end as CommanderErrors too, with exit code 0.
      if (err.exitCode !== 0 && argv.includes('--json')) printJsonError({ code: USAGE_CODE, message: err.message.replace(/^error: /, ''), hint: USAGE_HINT });
      return;
    }
    // The failure of work a signal interrupted (its server stopping under it) is no news: the
    // signal's own line has said what was left.
    if (interrupted()) return;
    reportError(err);
    if (json) printJsonError(isAppError(err) ? err : isSystemError(err) ? systemError(err) : { code: 'INTERNAL', message: toError(err).message });
  }
}

/**
 * An option given an empty value (`-o ''`, `--config ''`, an unset variable expanded in a script)
 * is a mistake: taken as given it fell back to a default (stdout, the home's config file) or failed
 * far from the cause (a backup renamed to '').
 */
function refuseEmptyValues(command: Command): void {
  for (const option of command.options) {
    const value: unknown = command.getOptionValue(option.attributeName());
    if (typeof value === 'string' && value.trim() === '') {
      throw new AppError(USAGE_CODE, `option ${option.long ?? option.short} has an empty value`, {
        hint: `give ${option.flags} a value, or leave the option out (and unset any environment variable that sets it empty) for its default`, exitCode: 2,
      });
    }
  }
}

/**
 * A reader that goes away (`astore backups jobs | head -1`) has all it wanted: end quietly, as
 * other Unix tools do, instead of crashing with an unhandled EPIPE, and with the exit code the
 * command has (0 unless it has already failed). A command that streams to stdout itself
 * (`astore backup`) has its own error listener and reports the broken pipe as the failure it is
 * for an archive.
 *
 * The embedded PostgreSQL the command started is stopped first: exiting at once left it running
 * after the command, e.g. `astore serve | tee serve.log` stopped with SIGTERM once tee had gone,
 * while a server started by a CLI command lives only for that command.
 */
function onStdoutError(err: NodeJS.ErrnoException): void {
  if (process.stdout.listenerCount('error') > 1) return;
  // A failure already reported keeps its exit code: `astore backups list --verify | head -1`
  // must not turn a damaged backup into success for a script that checks the exit status.
  if (err.code === 'EPIPE') return exitStoppingOwnServer(typeof process.exitCode === 'number' ? process.exitCode : 0);
  reportError(err);
  exitStoppingOwnServer(1);
}

export function reportError(err: unknown): void {
  if (isAppError(err)) {
    process.stderr.write(`error [${err.code}]: ${err.message}\n`);
    if (err.hint) process.stderr.write(`hint: ${err.hint}\n`);
    process.exitCode = err.exitCode;
  } else if (isSystemError(err)) {
    const s = systemError(err);
    process.stderr.write(`error [${s.code}]: ${s.message}\nhint: ${s.hint}\n`);
    process.exitCode = 1;
  } else {
    const e = toError(err);
    process.stderr.write(`error: ${e.stack ?? e.message}\n`);
    process.exitCode = 1;
  }
}

function isSystemError(err: unknown): err is NodeJS.ErrnoException & { code: string } {
  const e = err as NodeJS.ErrnoException;
  return err instanceof Error && typeof e.code === 'string' && /^E[A-Z]+$/.test(e.code) && typeof e.syscall === 'string';
}

/**
 * The operating system refused a file or socket operation (ENOSPC, ENOTDIR, EACCES, EIO …): its
 * own message names the call and the path, which a stack trace would only bury.
 */
function systemError(err: NodeJS.ErrnoException & { code: string }): { code: string; message: string; hint: string } {
  return {
    code: err.code, message: err.message.replace(`${err.code}: `, ''),
    hint: err.code === 'EPIPE'
      ? 'the program reading the output stopped before all of it was written: what it got is incomplete'
      : 'check that path (free space, permissions, whether it is a file or a directory) and run again',
  };
}
