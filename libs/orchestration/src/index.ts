export {
  DEFAULT_NAMESPACE,
  DEFAULT_TASK_QUEUE,
  DEFAULT_TEMPORAL_ADDRESS,
  connectTemporalClient,
  temporalTlsConfig,
  type TemporalTarget,
  type TemporalTlsOptions,
} from './temporal-connection';
export { startOrchestrator, workflowsPath, writeWorkflowBundle, type OrchestratorHandle, type OrchestratorOptions } from './orchestrator';
export { cancelPrune, pausePrune, pruneHandle, queryProgress, resumePrune, startPrune, type PruneHandle } from './prune-client';
export { eventPayloadBytes, measureWorkflowHistories, type HistorySizeReport } from './payload-sizes';
export {
  ORCHESTRATOR_USAGE,
  OrchestratorUsageError,
  parseOrchestratorArgs,
  runOrchestratorProcess,
  type OrchestratorProcessOptions,
} from './orchestrator-process';
