// Every function exported here becomes a workflow type: helpers stay in their modules.
export { pruneModel, progressQuery, pauseSignal, resumeSignal, cancelSignal, NON_RETRYABLE_ERROR_TYPES } from './prune-model';
export { compareCriteria, compareProgressQuery } from './compare-criteria';
export { scheduledPrune } from './scheduled-prune';
export type {
  KeepScheduledResultInput,
  KeepScheduledResultOutput,
  LoadScheduledModelInput,
  LoadScheduledModelOutput,
  ScheduleActivities,
  ScheduledPruneInput,
  ScheduledPruneResult,
} from './scheduled-prune-types';
