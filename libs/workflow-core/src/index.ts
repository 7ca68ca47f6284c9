export * from './prune-types';
export * from './activity-types';
export {
  PruneInputError,
  WORKFLOW_INPUT_LIMITS,
  checkActivityConfig,
  checkCount,
  checkDataset,
  checkDistillationOutput,
  checkFineTune,
  checkProscore,
  checkPruneInput,
  checkRecalibration,
} from './input-checks';
export type { WorkflowInputLimit } from './input-checks';
export { contiguousSplit, type IndexRange } from './contiguous-split';
export { mapBounded } from './map-bounded';
export { LOST_ARTIFACT_FAILURES, MAX_RECOMPUTATIONS, lostArtifactOf, recomputingLostArtifacts, stepInputs } from './lost-artifacts';
export {
  DEFAULT_MAX_PARALLEL,
  afterRound,
  evaluateModel,
  firstStepOf,
  initialCarry,
  measureBaseline,
  outputOf,
  recalibrateBatchNorm,
  resolveSettings,
  resultOf,
  roundDecay,
  runPruneRounds,
  runRound,
  stepsForEpochs,
  teacherOf,
  type RecalibrationPass,
  type RoundHost,
  type RoundOutcome,
} from './prune-rounds';
