/**
 * Runs each cleanup step in order, every one even when a step before it fails, then throws the
 * first failure. For after hooks: written as one `await` after another, a close that failed
 * skipped the rest, so the test's folder stayed in the temp directory and a server started for
 * the test kept running.
 */
export async function cleanUp(...steps: Array<() => unknown>): Promise<void> {
  let failure: { err: unknown } | undefined;
  for (const step of steps) {
    try {
      await step();
    } catch (err) {
      failure ??= { err };
    }
  }
  if (failure) throw failure.err;
}
