/**
 * One error type for the whole product. Every failure an operator can see carries a stable,
 * greppable `code` (e.g. `ARCHIVE_TRUNCATED`), a message that says what was wrong, and — where
 * there is one — a `hint` that says what to do about it. The CLI maps `exitCode`, the HTTP layer
 * maps `status`; nothing else inspects messages.
 */
export interface AppErrorOptions {
  /** What the operator can do about it. Printed after the message. */
  hint?: string;
  /** HTTP status when the error crosses the API boundary. */
  status?: number;
  /** Process exit code when the error ends a CLI command. */
  exitCode?: number;
  cause?: unknown;
  /** Machine-readable details, included in `--json` output. */
  details?: Record<string, unknown>;
}

export class AppError extends Error {
  readonly code: string;
  readonly hint: string | undefined;
  readonly status: number;
  readonly exitCode: number;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: string, message: string, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.hint = options.hint;
    this.status = options.status ?? 500;
    this.exitCode = options.exitCode ?? 1;
    this.details = options.details;
  }

  toJSON(): Record<string, unknown> {
    return { code: this.code, message: this.message, hint: this.hint, ...(this.details ? { details: this.details } : {}) };
  }
}

export function isAppError(err: unknown): err is AppError {
  return err instanceof AppError;
}

/** Normalises anything thrown into an Error, so catch blocks never deal with `unknown`. */
export function toError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
