/**
 * JSON on stdout for `--json` commands, successes and failures alike. No imports: the CLI entry
 * loads this for every command, including those that never open the store.
 */
let jsonPrinted = false;
let archiveOnStdout = false;

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
  jsonPrinted = true;
}

/** For `astore backup` without -o: stdout is the archive, and nothing else may go there. */
export function stdoutCarriesArchive(): void {
  archiveOnStdout = true;
}

/**
 * A failed `--json` command prints `{"error": {code, message, hint}}` on stdout besides the text on
 * stderr: a script reading stdout got nothing and had to scrape stderr. Not when the command has
 * already printed its own JSON document (backup-job's record of a failed run), nor over an archive.
 */
export function printJsonError(err: { code: string; message: string; hint?: string | undefined }): void {
  if (jsonPrinted || archiveOnStdout) return;
  printJson({ error: { code: err.code, message: err.message, ...(err.hint ? { hint: err.hint } : {}) } });
}
