// Where Temporal is and how to reach it lives in @ippro/temporal-connection, shared by the CLI and the orchestrator.
export {
  DEFAULT_NAMESPACE,
  DEFAULT_TASK_QUEUE,
  DEFAULT_TEMPORAL_ADDRESS,
  connectTemporalClient,
  temporalConnectionOptions,
  temporalTlsConfig,
  type TemporalTarget,
  type TemporalTlsOptions,
} from '@ippro/temporal-connection';
