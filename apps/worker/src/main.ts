import { InsecureTransportError } from '@ippro/protocol';
import { runWorkerProcess } from '@ippro/compute';
import { WORKER_USAGE, WorkerUsageError, parseWorkerArgs } from './worker-args';

/**
 * `ippro-worker [flags]` (the same flags as `ippro worker`): serves until SIGTERM or SIGINT,
 * then exits 0. Exit 2 for a bad flag, variable or configuration file, 1 when the worker cannot start.
 */
export async function main(argv: readonly string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(WORKER_USAGE);
    return 0;
  }
  try {
    return await runWorkerProcess(parseWorkerArgs(argv));
  } catch (error) {
    process.stderr.write(`ippro worker: ${(error as Error).message}\n`);
    if (error instanceof WorkerUsageError) process.stderr.write(WORKER_USAGE);
    return error instanceof WorkerUsageError || error instanceof InsecureTransportError ? 2 : 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
