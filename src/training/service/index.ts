export { Trainer, defaultConcurrency, type TrainerLog, type TrainerOptions } from './trainer.ts';
export { enqueue, sweep, queueCounts } from './queue.ts';
export {
  retrainAll, retrainStatus, retrainOptionsFromEnv, autoRetrainFromEnv, findAffected, seedsEstimateSeconds, measuredEstimateSeconds,
  type RetrainAllOptions, type RetrainAllSummary, type RetrainStatus,
} from './retrain.ts';
export { MAX_MODEL_BYTES } from './train.ts';
