export {
  pruneLocally,
  type LocalPruneEvent,
  type LocalPrunePhase,
  type LocalPruneRequest,
  type LocalPruneResult,
  type LocalPruneSummary,
  type LocalRoundMetrics,
  type PlanSettings,
} from './local-prune';
