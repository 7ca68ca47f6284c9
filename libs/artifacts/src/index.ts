export { ArtifactError, isArtifactError, kindOfStatus, type ArtifactErrorKind } from './artifact-error';
export { ARTIFACT_KEY_PATTERN, artifactKeyOf, assertArtifactKey, isArtifactKey } from './artifact-key';
export { CHUNK_BYTES, MAX_MESSAGE_BYTES } from './limits';
export {
  ArtifactStore,
  type ArtifactStat,
  type ArtifactStoreOptions,
  type PutDeclaration,
  type PutOutcome,
} from './artifact-store';
export {
  ARTIFACT_SERVICE_NAME,
  HEALTH_SERVICE_NAME,
  addArtifactService,
  addStandardServices,
  artifactServiceHandlers,
  serverOptions,
  startArtifactServer,
  toServiceError,
  type ArtifactServer,
  type ArtifactServerOptions,
  type ArtifactServiceOptions,
} from './artifact-server';
export {
  ArtifactClient,
  clientChannelOptions,
  type ArtifactClientOptions,
  type ArtifactSource,
} from './artifact-client';
export { HealthService, type ServingStatus } from './health-service';
export {
  channelCredentials,
  serverCredentials,
  tlsChannelOptions,
  type ClientTlsOptions,
  type ServerTlsOptions,
} from './tls';
export {
  PROTO_DIR_ENV,
  PROTO_FILES,
  PROTO_LOADER_OPTIONS,
  loadPackageDefinition,
  loadProtocol,
  protoRoot,
  type IpproProto,
} from './proto-loading';
export {
  measureArtifactThroughput,
  type ThroughputOptions,
  type ThroughputResult,
  type ThroughputRound,
} from './throughput';
export * as protocol from './generated/ippro-v1';
