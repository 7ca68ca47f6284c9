export { makeTempDir, patternBytes } from './temp-dir';
export { seaweedFsForTests } from './seaweedfs-fixture';
export * from './seaweedfs';
export {
  measureS3Throughput,
  type S3ThroughputOptions,
  type S3ThroughputResult,
  type S3ThroughputRound,
} from './s3-throughput';
