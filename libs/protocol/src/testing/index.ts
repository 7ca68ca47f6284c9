export { makeTestCertificates, type TestCertificates } from './certificates';
export {
  measureArtifactThroughput,
  type ThroughputOptions,
  type ThroughputResult,
  type ThroughputRound,
} from './throughput';
