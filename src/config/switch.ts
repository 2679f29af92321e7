/**
 * On/off settings, read the same way everywhere (environment variables and config files): true,
 * false, 1, 0, yes or no in any case, surrounding spaces ignored. A typo (`ture`, `on`) is
 * refused rather than read as false.
 */
import { AppError } from '../errors/index.ts';

const WORDS: Readonly<Record<string, boolean>> = { true: true, false: false, 1: true, 0: false, yes: true, no: false };

/** Undefined for unset or blank (the caller's default applies); CONFIG_INVALID naming `name` otherwise. */
export function parseSwitch(name: string, value: string | undefined): boolean | undefined {
  const v = value?.trim();
  if (!v) return undefined;
  const b = WORDS[v.toLowerCase()];
  if (b === undefined) {
    throw new AppError('CONFIG_INVALID', `${name}=${JSON.stringify(value)} is not a boolean`, {
      hint: `set ${name} to true, false, 1, 0, yes or no (any case), or leave it unset for the default`, exitCode: 2,
    });
  }
  return b;
}
