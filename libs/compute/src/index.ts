export { WorkerError, statusOfError } from './worker-error';
export {
  batchNormStatisticsCallOf,
  batchNormStatisticsRequestOf,
  batchNormStatisticsResultOf,
  evaluateCallOf,
  evaluateRequestOf,
  evaluateResultOf,
  fineTuneCallOf,
  fineTuneRequestOf,
  fineTuneResultOf,
  gradStatsCallOf,
  gradStatsRequestOf,
  gradStatsResultMessage,
  gradStatsResultOf,
  progressOf,
  trajectoryScoresCallOf,
  trajectoryScoresRequestOf,
  trajectoryScoresResultOf,
} from './call-messages';
export { WorkerService, type WorkerServiceOptions } from './worker-service';
export {
  DEFAULT_CACHE_BYTES,
  DEFAULT_MAX_BATCH_SIZE,
  WORKER_SERVICE_NAME,
  startWorker,
  type ShutdownOptions,
  type WorkerHandle,
  type WorkerOptions,
} from './worker-server';
export { WorkerClient, type LongCallOptions, type WorkerClientOptions } from './worker-client';
export { runWorkerProcess, type WorkerProcessOptions } from './worker-process';
export { DEFAULT_WORKER_PORT, WORKER_SETTINGS, workerProcessOptionsFrom, type WorkerSettingsSet } from './worker-settings';
export {
  measureCallOverhead,
  measureWorkerPeakRss,
  type CallOverheadOptions,
  type CallOverheadResult,
  type PeakRssOptions,
  type PeakRssResult,
} from './worker-bench';
