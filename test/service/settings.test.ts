/**
 * The service's environment settings: a typo is refused at start with the variable named, never
 * read as false or NaN, and the retrain-all options are read when the schedule is set up rather
 * than when it fires hours later.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readServiceSettings } from '../../src/service/index.ts';

const refused = (env: NodeJS.ProcessEnv, pattern: RegExp): void => {
  assert.throws(() => readServiceSettings(env), (err: any) => {
    assert.equal(err.code, 'CONFIG_INVALID');
    assert.equal(err.exitCode, 2);
    assert.match(err.message, pattern);
    assert.ok(err.hint, 'says what to do');
    return true;
  });
};

test('booleans: true/false/1/0/yes/no in any case, trimmed; blank is the default; anything else is refused', () => {
  for (const [v, want] of [['true', true], ['TRUE', true], [' true ', true], ['Yes', true], ['1', true], ['false', false], ['No', false], ['0', false], ['', true]] as const) {
    assert.equal(readServiceSettings({ AUTO_RETRAIN: v }).autoRetrain, want, JSON.stringify(v));
  }
  assert.equal(readServiceSettings({}).autoRetrain, true);
  for (const v of ['ture', 'on', 'off', 'truee', '2']) {
    refused({ AUTO_RETRAIN: v }, new RegExp(`^AUTO_RETRAIN="${v}" is not a boolean`));
    refused({ AUTO_RETRAIN_ALL_ENABLED: v }, new RegExp(`^AUTO_RETRAIN_ALL_ENABLED="${v}" is not a boolean`));
  }
  assert.throws(() => readServiceSettings({ AUTO_RETRAIN: 'on' }), (err: any) => /true, false, 1, 0, yes or no/.test(err.hint));
});

test('ASTORE_MAX_BODY_BYTES is a whole number of bytes >= 1', () => {
  assert.equal(readServiceSettings({ ASTORE_MAX_BODY_BYTES: '2048' }).maxBodyBytes, 2048);
  assert.equal(readServiceSettings({ ASTORE_MAX_BODY_BYTES: '' }).maxBodyBytes, undefined);
  for (const v of ['abc', '0', '1.5', '-1', '1e6', '2 MB']) refused({ ASTORE_MAX_BODY_BYTES: v }, /^ASTORE_MAX_BODY_BYTES=.* is not a whole number of bytes/);
});

test('ASTORE_MODEL_CACHE_BYTES is a whole number of bytes >= 1 (unset: the default)', () => {
  assert.equal(readServiceSettings({ ASTORE_MODEL_CACHE_BYTES: '536870912' }).modelCacheBytes, 536870912);
  assert.equal(readServiceSettings({}).modelCacheBytes, undefined);
  refused({ ASTORE_MODEL_CACHE_BYTES: '1 GB' }, /^ASTORE_MODEL_CACHE_BYTES=.* is not a whole number of bytes/);
});

test('message logs: ASTORE_MESSAGE_LOGS is a switch (default on); ASTORE_LOG_RETENTION_DAYS is 0-36500 days (default 30)', () => {
  assert.deepEqual([readServiceSettings({}).messageLogs, readServiceSettings({}).logRetentionDays], [true, 30]);
  assert.equal(readServiceSettings({ ASTORE_MESSAGE_LOGS: 'no' }).messageLogs, false);
  refused({ ASTORE_MESSAGE_LOGS: 'off' }, /^ASTORE_MESSAGE_LOGS="off" is not a boolean/);
  assert.equal(readServiceSettings({ ASTORE_LOG_RETENTION_DAYS: '0' }).logRetentionDays, 0);
  assert.equal(readServiceSettings({ ASTORE_LOG_RETENTION_DAYS: ' 7 ' }).logRetentionDays, 7);
  for (const v of ['-1', '1.5', 'week', '36501', '99999999999']) refused({ ASTORE_LOG_RETENTION_DAYS: v }, /^ASTORE_LOG_RETENTION_DAYS=.* is not a whole number of days from 0 to 36500/);
});

test('auto-retrain-all: the schedule and the retrain options are checked at start', () => {
  const on = { AUTO_RETRAIN_ALL_ENABLED: ' yes ', AUTO_RETRAIN_ALL_CRON_SCHEDULE: '0 0 3 * * ?' };
  const s = readServiceSettings({ ...on, BATCH_RETRAIN_ALL_SIZE: '7', WAIT_TIME_BETWEEN_TRAININGS_FOR_RETRAIN_ALL: '2' });
  assert.equal(s.retrainAll?.schedule, '0 0 3 * * ?');
  assert.equal(s.retrainAll?.options.batchSize, 7);
  assert.equal(s.retrainAll?.options.waitBetweenTrainingsS, 2);
  refused({ ...on, WAIT_TIME_BETWEEN_BATCH_RETRAIN_IN_SECONDS_FOR_RETRAIN_ALL: 'abc' }, /WAIT_TIME_BETWEEN_BATCH_RETRAIN_IN_SECONDS_FOR_RETRAIN_ALL/);
  // Not enabled: the retrain-all variables are not this service's concern.
  assert.equal(readServiceSettings({ WAIT_TIME_BETWEEN_BATCH_RETRAIN_IN_SECONDS_FOR_RETRAIN_ALL: 'abc' }).retrainAll, undefined);
  assert.deepEqual(readServiceSettings({ AUTO_RETRAIN_ALL_ENABLED: 'true' }).warnings.length, 1);
});
