export { createServer, DEFAULT_MAX_BODY_BYTES, type ServerOptions, type ServerHooks } from './server.ts';
export { Router } from './router.ts';
export type { V1Context, V1Handler, V1Reply } from './v1.ts';
export { errorBody, type ErrorBody } from './errors.ts';
