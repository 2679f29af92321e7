export { ALGORITHM_VERSION, SPARSE_ALGORITHM_VERSION, readableAlgorithms, IntentModel, trainIntentModel, type IntentScore, type ModelState, type TrainingData } from './model.ts';
export { deserializeModel, serializeModel, storedAlgorithm } from './serialize.ts';
export { trainingDataHash } from './hash.ts';
export { parseCsvRecords, parseLabelledCsv, type LabelledText } from './csv.ts';
export {
  DEFAULT_THRESHOLD, evaluateIntents, isOutOfScopeLabel, predictAll, scorePredictions, toTrainingData,
  type EvaluationReport, type Prediction, type Scores,
} from './evaluate.ts';
export { normalizeText, tokenize } from './features.ts';
