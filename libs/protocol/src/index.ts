export {
  ARTIFACT_KEY_METADATA,
  artifactKeyMetadata,
  artifactKeyOfStatus,
  kindOfStatus,
} from './artifact-status';
export { MAX_MESSAGE_BYTES } from './limits';
export { ServiceStorage } from './service-storage';
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
export * as protocol from './generated/ippro-v1';
