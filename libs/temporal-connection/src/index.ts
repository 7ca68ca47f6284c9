export {
  DEFAULT_NAMESPACE,
  DEFAULT_TASK_QUEUE,
  DEFAULT_TEMPORAL_ADDRESS,
  TemporalTargetError,
  type TemporalTarget,
  type TemporalTlsOptions,
} from './temporal-target';
export { temporalConnectionOptions, temporalTlsConfig, type TemporalConnectionOptions } from './connection-options';
export {
  TEMPORAL_SETTINGS,
  temporalSettingsFrom,
  temporalTargetFrom,
  type TemporalSettings,
  type TemporalSettingsSet,
} from './temporal-settings';
export { connectTemporalClient, type ConnectClientOptions } from './connect-client';
