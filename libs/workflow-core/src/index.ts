export * from './prune-types';
export * from './activity-types';
export { mapBounded } from './map-bounded';
export {
  DEFAULT_MAX_PARALLEL,
  afterRound,
  evaluateModel,
  firstStepOf,
  initialCarry,
  measureBaseline,
  resolveSettings,
  resultOf,
  runPruneRounds,
  runRound,
  type RoundHost,
  type RoundOutcome,
} from './prune-rounds';
