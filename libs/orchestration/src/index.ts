export {
  DEFAULT_NAMESPACE,
  DEFAULT_TASK_QUEUE,
  DEFAULT_TEMPORAL_ADDRESS,
  connectTemporalClient,
  temporalConnectionOptions,
  temporalTlsConfig,
  type TemporalTarget,
  type TemporalTlsOptions,
} from './temporal-connection';
export { startOrchestrator, type OrchestratorHandle, type OrchestratorOptions } from './orchestrator';
export { bundleManifestPath, checkWorkflowBundle, workflowSourceHash, workflowsPath, writeWorkflowBundle, type BundleCheck } from './workflow-bundle';
export { LATEST_LINK, createScheduleActivities, type ScheduleActivityDeps } from './schedule-activities';
export {
  PruneScheduleError,
  SCHEDULED_RUN_PREFIX,
  createPruneSchedule,
  deletePruneSchedule,
  describePruneSchedule,
  describeTiming,
  listPruneSchedules,
  scheduledRunResult,
  triggerPruneSchedule,
  type CreatePruneScheduleOptions,
  type LastScheduledRun,
  type PruneScheduleMemo,
  type PruneScheduleProblem,
  type PruneScheduleSummary,
  type ScheduleTiming,
} from './prune-schedules';
export type { ScheduledPruneInput, ScheduledPruneResult } from '@ippro/workflows';
export {
  MAX_RUN_INPUT_BYTES,
  RunIdTakenError,
  RunInputTooLargeError,
  cancelPrune,
  checkRunIdFree,
  pausePrune,
  pruneHandle,
  queryProgress,
  resumePrune,
  startPrune,
  type PruneHandle,
  type StartRunOptions,
} from './prune-client';
export { compareRunInputOf, pruneRunInputOf, startInputOf } from './run-input';
export { compareHandle, queryCompareProgress, startCompare, type CompareHandle } from './compare-client';
export { eventPayloadBytes, measureWorkflowHistories, type HistorySizeReport } from './payload-sizes';
export { runOrchestratorProcess, type OrchestratorDefaults, type OrchestratorProcessOptions } from './orchestrator-process';
export {
  DEFAULT_ARTIFACTS_LISTEN,
  ORCHESTRATOR_SETTINGS,
  ORCHESTRATOR_SETTING_GROUPS,
  orchestratorProcessOptionsFrom,
  type OrchestratorSettingsSet,
} from './orchestrator-settings';
export {
  RunControlError,
  RunNotFoundError,
  compareRunProgressOf,
  controlRun,
  describeRun,
  listRuns,
  pruneRunIdOf,
  pruneRunProgressOf,
  runningWorkOf,
  temporalUiLink,
  type CompareRunProgress,
  type PruneRunProgress,
  type RunAction,
  type RunDescription,
  type RunKind,
  type RunListing,
} from './run-status';
