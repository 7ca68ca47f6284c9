export {
  ARTIFACT_KEY_METADATA,
  ArtifactError,
  artifactKeyMetadata,
  artifactKeyOfStatus,
  isArtifactError,
  kindOfStatus,
  type ArtifactErrorKind,
} from './artifact-error';
export { ARTIFACT_KEY_PATTERN, artifactKeyOf, assertArtifactKey, isArtifactKey } from './artifact-key';
export { CHUNK_BYTES, MAX_MESSAGE_BYTES } from './limits';
export {
  ArtifactStore,
  type ArtifactStat,
  type ArtifactStoreOptions,
  type PutDeclaration,
  type PutOutcome,
} from './artifact-store';
export { storeBytes, type ArtifactStorage } from './artifact-storage';
export { CachedStorage } from './cached-storage';
export { ServiceStorage } from './service-storage';
export { S3ArtifactStore, DEFAULT_PART_BYTES, type S3ArtifactStoreOptions } from './s3/s3-artifact-store';
export { MIN_PART_BYTES } from './s3/multipart-upload';
export { measureS3Throughput, type S3ThroughputOptions, type S3ThroughputResult, type S3ThroughputRound } from './s3/s3-throughput';
export { formatS3Url, parseS3Url, type S3Location } from './s3/location';
export type { S3ConnectionOptions, S3Credentials } from './s3/client';
export type { RetryPolicy } from './s3/retry';
export {
  STORE_SETTINGS,
  StoreSettingsError,
  describeStoreSettings,
  openArtifactStorage,
  parseStoreSettings,
  storeSettingsForChild,
  storeSettingsOf,
  type OpenStorageOptions,
  type StoreSettings,
  type StoreSettingsSet,
} from './store-settings';
export * from './seaweedfs';
export { clientTlsOf, clientTlsSettings, serverTlsOf, serverTlsSettings, type ClientTlsSettings, type ServerTlsSettings } from './tls-settings';
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
