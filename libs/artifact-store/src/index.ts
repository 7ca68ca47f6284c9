export {
  ARTIFACT_STATUS,
  ArtifactError,
  isArtifactError,
  type ArtifactErrorKind,
} from './artifact-error';
export { ARTIFACT_KEY_PATTERN, artifactKeyOf, assertArtifactKey, describeValue, isArtifactKey } from './artifact-key';
export { CHUNK_BYTES } from './limits';
export {
  ArtifactStore,
  type ArtifactStat,
  type ArtifactStoreOptions,
  type PutDeclaration,
  type PutOutcome,
} from './artifact-store';
export { storeBytes, type ArtifactStorage } from './artifact-storage';
export { CachedStorage } from './cached-storage';
export { S3ArtifactStore, DEFAULT_PART_BYTES, type S3ArtifactStoreOptions } from './s3/s3-artifact-store';
export { MIN_PART_BYTES } from './s3/multipart-upload';
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
