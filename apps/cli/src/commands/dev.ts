import { availableParallelism } from 'node:os';
import { Command } from 'commander';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { initRuntime, parseBackendRequest } from '@ippro/runtime';
import { asBadInput, isPositiveInteger, parseNumberFlag } from '../cli-inputs';
import { UsageError } from '../exit-codes';
import { DEFAULT_STATE_DIR, DEV_INFO_FILE, parseWorkersFlag, readDevInfo, startStack } from '../stack';
import { addStoreFlags, storeFromFlags } from '../run-artifacts';
import type { StoreFlags } from '../run-artifacts';

interface DevOptions extends StoreFlags {
  metricsPort?: string;
  stateDir: string;
  workers?: string;
  backend: string;
  port?: string;
  ui: boolean;
  dataDir?: string;
  verbose?: boolean;
}

export function devCommand(): Command {
  const command = new Command('dev')
    .description(
      'start the embedded stack on loopback until Ctrl-C: a Temporal dev server (database in the state dir), the artifact ' +
        `service, the workers and the orchestrator; writes <state dir>/${DEV_INFO_FILE} so prune/status/watch/cancel/runs find it`,
    )
    .option('--state-dir <dir>', 'Temporal database, artifacts, worker caches and dev.json', DEFAULT_STATE_DIR)
    .option('--workers <n|pool>', `worker processes to start (default ${availableParallelism()}, one per core), or the pool of running workers: host:port[,host:port...] or dns:NAME:PORT`)
    .option('--backend <name>', 'tfjs backend of the workers and the orchestrator: auto | tensorflow-gpu | tensorflow | wasm | cpu', 'auto')
    .option('--port <n>', 'Temporal frontend port (default a free one)')
    .option('--no-ui', 'do not serve the Temporal Web UI')
    .option('--data-dir <dir>', 'directory of the CIFAR-10 .bin files (workers and orchestrator)')
    .option('--verbose', 'print the logs of the dev server and the workers')
    .option('--metrics-port <n>', "serve the orchestrator's Prometheus metrics on this port (0: a free one) and each worker's on a free one; dev.json lists them");
  return addStoreFlags(command).action(async (options: DevOptions) => {
    const workers = parseWorkersFlag(options.workers ?? String(availableParallelism()));
    const backend = await asBadInput('--backend', () => parseBackendRequest(options.backend));
    const port = options.port === undefined ? undefined : parseNumberFlag('--port', options.port, (n) => isPositiveInteger(n) && n <= 65535, 'a port (1-65535)');
    const store = storeFromFlags(options);
    const metricsPort = options.metricsPort === undefined ? undefined : parseNumberFlag('--metrics-port', options.metricsPort, (n) => Number.isInteger(n) && n >= 0 && n <= 65535, 'a port (0-65535)');
    const running = await readDevInfo(options.stateDir);
    if (running !== undefined && isAlive(running.pid)) {
      throw new UsageError(
        `a stack is already running from ${options.stateDir} (pid ${running.pid}, Temporal ${running.temporal.address}); stop it first or use another --state-dir`,
      );
    }
    const runtime = await initRuntime({ backend });
    const say = (line: string): void => {
      process.stderr.write(`${line}\n`);
    };
    say(runtime.summary);
    if (options.verbose !== true) Runtime.install({ logger: new DefaultLogger('WARN') });
    const stack = await startStack({
      stateDir: options.stateDir,
      workers,
      backend: options.backend,
      ui: options.ui,
      ...(port === undefined ? {} : { temporalPort: port }),
      ...(options.dataDir === undefined ? {} : { dataDir: options.dataDir }),
      ...(options.verbose === true ? { log: say } : {}),
      ...(store === undefined ? {} : { store }),
      ...(metricsPort === undefined ? {} : { metricsPort }),
    });
    const { info } = stack;
    process.stdout.write(
      [
        `ippro dev: running (state in ${options.stateDir}, ${DEV_INFO_FILE} written)`,
        `  Temporal      ${info.temporal.address} (namespace ${info.temporal.namespace}, task queue ${info.taskQueue})`,
        `  Temporal UI   ${info.temporal.uiUrl ?? 'off'}`,
        `  artifacts     ${info.artifacts}`,
        `  workers       ${info.workers.join(', ')}`,
        ...(info.store === undefined ? [] : [`  store         ${info.store} (shared by the orchestrator and the workers)`]),
        ...(info.metrics === undefined ? [] : [`  metrics       ${[info.metrics.orchestrator, ...info.metrics.workers].join(', ')}`]),
        'press Ctrl-C to stop',
        '',
      ].join('\n'),
    );
    const reason = await new Promise<string>((done) => {
      const onSignal = (signal: NodeJS.Signals): void => done(signal);
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      void stack.failed.then((part) => done(`${part} stopped`));
    });
    say(`ippro dev: stopping (${reason})`);
    await stack.stop();
    say('ippro dev: stopped');
  });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return pid !== process.pid;
  } catch {
    return false;
  }
}
