export { LogWriter, type LogEntry, type LogWriterOptions } from './writer.ts';
export { registerLogRoutes, customerId } from './routes.ts';
export { uuid7 } from './uuid7.ts';
