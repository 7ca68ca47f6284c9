export { jobFields, type JobFields } from './job-fields';
export { createLogger, expandFields, lineLogger, type LineLog, type LogFields, type Logger, type LoggerOptions } from './logger';
export { collectProcessMetrics, metricsRegistry, orchestratorMetrics, recordWorkerCall, workerMetrics, type WorkerCallRecord } from './metrics';
export { startMetricsServer, type MetricsServer, type MetricsServerOptions } from './metrics-server';
export { MeteredStorage } from './metered-storage';
export { activityTelemetry } from './activity-telemetry';
export { installTemporalLogger } from './temporal-logger';
export { recentRuns, recordRunsProgress, runProgressMetrics, setRunProgressSource, type RunGaugeValues, type RunProgressSource } from './run-progress-metrics';
