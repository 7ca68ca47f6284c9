export * from './prune-types';
export * from './activity-types';
export { PruneInputError, WORKFLOW_INPUT_LIMITS, checkActivityConfig, checkCount, checkPruneInput } from './input-checks';
export type { WorkflowInputLimit } from './input-checks';
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
  resolveSettings,
  resultOf,
  runPruneRounds,
  runRound,
  type RoundHost,
  type RoundOutcome,
} from './prune-rounds';
