/**
 * A service stopped while its scheduled retrain-all runs (SIGTERM in a rolling restart): the run
 * used to fail with "Cannot use a pool after calling end on the pool", log no summary line, and
 * leave the rest unsubmitted without a word. Now it stops submitting, says what it left, and
 * logs the summary the seeds' validation greps for, before the pool closes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createService } from '../../src/service/index.ts';
import { v1Request } from '../support/api.ts';
import { startTestStore } from '../support/store.ts';

test('stopping the service mid-run ends the run with its summary, and what was not submitted stays affected', { timeout: 60_000 }, async () => {
  const s = await startTestStore();
  try {
    // Three workspaces, trained by nobody (no trainer): their creation's jobs are taken off the queue.
    const setup = createService(s.store, { env: {}, trainer: false, debounceMs: 0 });
    const url = await setup.app.listen({ host: '127.0.0.1', port: 0 });
    const t = await s.tenant('stopper');
    const ids: string[] = [];
    for (const name of ['a', 'b', 'c']) {
      ids.push((await v1Request(`${url}/instances/${t.instanceId}/api`, { authorization: `Bearer ${t.token}` }, 'POST', '/v1/workspaces',
        { name, intents: [{ intent: 'hello', examples: [{ text: 'hi there' }] }] })).workspace_id);
    }
    await setup.close();
    await s.store.pool.query('delete from training_jobs');

    const lines: string[] = [];
    const svc = createService(s.store, {
      trainer: false,
      logger: false,
      env: {
        AUTO_RETRAIN: 'false', AUTO_RETRAIN_ALL_ENABLED: 'true', AUTO_RETRAIN_ALL_CRON_SCHEDULE: '* * * * * ?',
        // One a batch, a long wait between batches: the run is mid-way when the service stops.
        BATCH_RETRAIN_ALL_SIZE: '1', WAIT_TIME_BETWEEN_BATCH_RETRAIN_IN_SECONDS_FOR_RETRAIN_ALL: '600',
      },
      retrainLog: (line) => lines.push(line),
    });
    await svc.app.listen({ host: '127.0.0.1', port: 0 });
    const deadline = Date.now() + 20_000;
    while ((await s.store.pool.query('select 1 from training_jobs')).rowCount === 0) {
      assert.ok(Date.now() < deadline, `the run did not start: ${lines.join('\n')}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const started = Date.now();
    await svc.close();
    assert.ok(Date.now() - started < 10_000, 'close did not wait out the 600 s pause');
    const log = lines.join('\n');
    assert.match(log, /\[RETRAIN-ALL\] stopped \(the service is shutting down\) with 2 of 3 not yet submitted/, log);
    assert.match(log, /\[RETRAIN-ALL-SUMMARY\] Affected workspaces found: 3, Retrained Total: 0/, log);
    assert.doesNotMatch(log, /run failed/, log);
    const queued = await s.store.pool.query('select workspace_id from training_jobs');
    assert.equal(queued.rowCount, 1, 'the submitted one stays queued');
  } finally {
    await s.close();
  }
});
