/** Worker-thread side: receives training data, answers with the serialized model or an error. */
import { parentPort } from 'node:worker_threads';
import { isAppError } from '../../errors/index.ts';
import type { TrainingData } from '../model/index.ts';
import { train } from './train.ts';

parentPort!.on('message', (msg: { id: number; data: TrainingData; maxBytes: number }) => {
  try {
    const out = train(msg.data, msg.maxBytes);
    parentPort!.postMessage({ id: msg.id, ok: true, out }, [out.model.buffer as ArrayBuffer]);
  } catch (err) {
    // The code and status cross over too: a failure the data causes (status 4xx) is not retried.
    const e = err as Error;
    parentPort!.postMessage({ id: msg.id, ok: false, message: e.message, ...(isAppError(e) ? { code: e.code, status: e.status, hint: e.hint } : {}) });
  }
});
