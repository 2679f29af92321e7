/** Worker-thread side: receives training data, answers with the serialized model or an error. */
import { parentPort } from 'node:worker_threads';
import type { TrainingData } from '../model/index.ts';
import { train } from './train.ts';

parentPort!.on('message', (msg: { id: number; data: TrainingData }) => {
  try {
    const out = train(msg.data);
    parentPort!.postMessage({ id: msg.id, ok: true, out }, [out.model.buffer as ArrayBuffer]);
  } catch (err) {
    parentPort!.postMessage({ id: msg.id, ok: false, message: (err as Error).message });
  }
});
