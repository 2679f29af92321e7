/** The CPU-bound part of a training job, identical in a worker thread and inline. */
import { ALGORITHM_VERSION, serializeModel, trainIntentModel, trainingDataHash, type TrainingData } from '../model/index.ts';
import type { TrainedModel } from './data.ts';

export function train(data: TrainingData): TrainedModel {
  const start = performance.now();
  const model = serializeModel(trainIntentModel(data));
  return { model, dataHash: trainingDataHash(data), algorithmVersion: ALGORITHM_VERSION, trainMs: Math.round(performance.now() - start) };
}
