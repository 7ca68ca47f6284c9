import { Command } from 'commander';
import { WorkerUsageError, parseWorkerArgs, runWorkerProcess } from '@ippro/compute';
import { UsageError } from '../exit-codes';

/** Flag name -> commander's camel-case option key; every flag is passed on to parseWorkerArgs. */
const VALUE_FLAGS: [string, string, string][] = [
  ['--host <host>', 'host', 'address to bind (default 0.0.0.0)'],
  ['--port <n>', 'port', 'port to bind; 0 picks a free one (default 7071)'],
  ['--backend <name>', 'backend', 'auto | tensorflow-gpu | tensorflow | wasm | cpu (default auto)'],
  ['--slots <n>', 'slots', 'calls run at once; more are refused with RESOURCE_EXHAUSTED (default 1)'],
  ['--cache-dir <dir>', 'cacheDir', 'local artifact cache (default a new temporary directory)'],
  ['--cache-bytes <n>', 'cacheBytes', 'cache size bound, LRU (default 2 GiB)'],
  ['--artifacts <addr>', 'artifacts', 'host:port of the artifact service (default: serve one here, over the cache)'],
  ['--artifacts-ca <file>', 'artifactsCa', 'CA of the artifact service certificate (TLS to it)'],
  ['--artifacts-cert <file>', 'artifactsCert', 'client certificate for the artifact service (mutual TLS)'],
  ['--artifacts-key <file>', 'artifactsKey', 'key of --artifacts-cert'],
  ['--tls-cert <file>', 'tlsCert', 'serve TLS with this certificate chain'],
  ['--tls-key <file>', 'tlsKey', 'key of --tls-cert'],
  ['--tls-ca <file>', 'tlsCa', 'require client certificates signed by this CA (mutual TLS)'],
  ['--data-dir <dir>', 'dataDir', 'directory of the CIFAR-10 .bin files'],
  ['--max-batch-size <n>', 'maxBatchSize', 'largest batch_size accepted (default 1024)'],
  ['--worker-id <name>', 'workerId', 'name reported in capabilities (default host:port)'],
  ['--store <url>', 'store', 'instead of --artifacts, the store shared with the orchestrator: s3://BUCKET[/PREFIX] or a directory ($IPPRO_STORE)'],
  ['--s3-endpoint <url>', 's3Endpoint', 'S3-compatible endpoint, e.g. http://seaweedfs:8333 ($IPPRO_S3_ENDPOINT, $AWS_ENDPOINT_URL_S3; default AWS S3)'],
  ['--s3-region <name>', 's3Region', 'S3 region ($AWS_REGION; default us-east-1)'],
  ['--s3-access-key-id <id>', 's3AccessKeyId', 'S3 access key, with --s3-secret-access-key (default $AWS_ACCESS_KEY_ID and the AWS chain)'],
  ['--s3-secret-access-key <key>', 's3SecretAccessKey', 'its secret (default $AWS_SECRET_ACCESS_KEY)'],
  ['--metrics-port <n>', 'metricsPort', 'serve Prometheus metrics at http://HOST:N/metrics and /healthz (0: a free port)'],
];

export function workerCommand(): Command {
  const command = new Command('worker').description('serve the gRPC compute WorkerService (one per core or GPU) until SIGTERM');
  for (const [flags, , description] of VALUE_FLAGS) command.option(flags, description);
  return command
    .option('--abort-on-term', 'on SIGTERM abort running calls (UNAVAILABLE) instead of finishing them')
    .action(async (options: Record<string, string | boolean | undefined>) => {
      const argv: string[] = [];
      for (const [flags, key] of VALUE_FLAGS) {
        const value = options[key];
        if (typeof value === 'string') argv.push(flags.split(' ')[0] ?? '', value);
      }
      if (options['abortOnTerm'] === true) argv.push('--abort-on-term');
      let parsed;
      try {
        parsed = parseWorkerArgs(argv);
      } catch (error) {
        throw error instanceof WorkerUsageError ? new UsageError(error.message) : error;
      }
      const code = await runWorkerProcess(parsed);
      if (code !== 0) throw new Error('the worker did not shut down cleanly');
    });
}
