/** The CPU-bound part of a training job, identical in a worker thread and inline. */
import { AppError } from '../../errors/index.ts';
import { serializeModel, storedAlgorithm, trainIntentModel, trainingDataHash, type TrainingData } from '../model/index.ts';
import type { TrainedModel } from './data.ts';

/**
 * The largest model a training stores. A `/message` holds the model in memory (one per cached
 * workspace), and the driver reads a bytea as hex text, which V8 caps at about 512 MiB of
 * characters: far past this, a model could be stored but never read back.
 */
export const MAX_MODEL_BYTES = 128 * 1024 * 1024;

export function train(data: TrainingData, maxBytes = MAX_MODEL_BYTES): TrainedModel {
  const start = performance.now();
  const model = serializeModel(trainIntentModel(data));
  if (model.length > maxBytes) {
    const mib = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`;
    throw new AppError('MODEL_TOO_LARGE', `The trained model is ${mib(model.length)}; the store keeps models up to ${mib(maxBytes)}.`, {
      hint: 'Split the workspace, or remove intents or examples that overlap (the model grows with how many examples lie near other intents).',
      status: 400,
    });
  }
  return { model, dataHash: trainingDataHash(data), algorithmVersion: storedAlgorithm(model), trainMs: Math.round(performance.now() - start) };
}
