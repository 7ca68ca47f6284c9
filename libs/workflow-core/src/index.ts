export * from './prune-types';
export * from './activity-types';
export * from './optimizer-settings';
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
export { numericPathText, pinOf, pinnedToFingerprint, type RunPin } from './run-fingerprint';
export { LOST_ARTIFACT_FAILURES, MAX_RECOMPUTATIONS, lostArtifactOf, recomputingLostArtifacts, stepInputs } from './lost-artifacts';
export {
  DEFAULT_MAX_PARALLEL,
  afterRound,
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
export {
  RoundClock,
  UNIT_OF_WORK_PHASE,
  WORK_PHASE_OF_ACTIVITY,
  timedPhaseOf,
  phaseImagesPerSecond,
  resultWithoutTiming,
  roundPhasesOf,
  samplesIn,
  withoutTiming,
  type PhaseTiming,
  type PhaseWork,
  type RoundTiming,
  type TimedPhase,
  type WorkPhase,
  type WorkUnit,
} from './run-timing';
export { liveProgress, liveTasks, type LiveProgress, type LiveTask, type LiveWork, type RunningWork } from './live-progress';
export { RunProgress } from './run-progress';
export { scheduledPruneRunId } from './run-ids';
