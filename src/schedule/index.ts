/**
 * Schedules: 5-field cron for `store.backup.schedule` and Quartz expressions for the seeds'
 * AUTO_RETRAIN_ALL_CRON_SCHEDULE. Pure functions of an expression and an instant; the schedulers
 * that sleep until the next time live with the jobs they run.
 */
export { parseCron, nextCronTime, type CronExpression, type NextCronOptions } from './cron.ts';
export { parseQuartz, nextQuartzTime, type QuartzExpression, type QuartzDayRule } from './quartz.ts';
export type { TimeZone } from './calendar.ts';
