/** LOG_LEVEL, checked before a command starts anything. */
import { AppError } from '../errors/index.ts';

// pino's levels; any other name made pino throw from inside the command, after serve had opened
// the store (which then kept the process alive) or retrain-all had taken its run lock.
const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** The level LOG_LEVEL names, or `fallback` when it is unset or empty. */
export function logLevel(fallback: string, env: NodeJS.ProcessEnv = process.env): string {
  const v = env.LOG_LEVEL?.trim();
  if (!v) return fallback;
  if (!LEVELS.includes(v)) {
    throw new AppError('CONFIG_INVALID', `LOG_LEVEL must be one of ${LEVELS.join(', ')}, got "${v}"`, {
      hint: `set LOG_LEVEL to one of those levels, or unset it for this command's default (${fallback})`, exitCode: 2,
    });
  }
  return v;
}
