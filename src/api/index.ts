export { createServer, DEFAULT_MAX_BODY_BYTES, type ServerOptions, type ServerHooks } from './server.ts';
export { Router } from './router.ts';
export { pageUrl, type V1Context, type V1Handler, type V1Reply } from './v1.ts';
export { errorBody, type ErrorBody } from './errors.ts';
export { invalidParameter, pageLimit } from './params.ts';
