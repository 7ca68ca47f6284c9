import { availableParallelism } from 'node:os';
import { Command } from 'commander';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { STORE_SETTINGS } from '@ippro/artifact-store';
import { BACKEND_SETTINGS, initRuntime } from '@ippro/runtime';
import { TEXT, combineSets, port, setting, toggle } from '@ippro/settings';
import { addSettings, commandSettings } from '../command-settings';
import { UsageError } from '../exit-codes';
import { DEV_INFO_FILE, STATE_DIR_SETTINGS, parseWorkersFlag, readDevInfo, startStack } from '../stack';
import { storeFromSettings } from '../run-artifacts';

/** The settings of `ippro dev`: its stack's state, workers, backend and ports, and the store it may share with them. */
const DEV_SETTINGS = combineSets(
  STATE_DIR_SETTINGS,
  {
    workers: setting({
      parse: TEXT,
      placeholder: 'N|POOL',
      help: 'worker processes to start, or the pool of running workers: host:port[,host:port...] or dns:NAME:PORT',
      defaultHelp: 'one per core',
    }),
    ...BACKEND_SETTINGS,
    port: setting({ parse: port(false), help: 'Temporal frontend port', defaultHelp: 'a free one' }),
    ui: toggle({ help: 'serve the Temporal Web UI (--no-ui: do not)', default: true }),
    dataDir: setting({ parse: TEXT, placeholder: 'DIR', help: 'directory of the CIFAR-10 .bin files (workers and orchestrator)' }),
    verbose: toggle({ help: 'print the logs of the dev server and the workers' }),
    metricsPort: setting({ parse: port(true), help: "serve the orchestrator's Prometheus metrics on this port (0: a free one) and each worker's on a free one; dev.json lists them" }),
    json: toggle({ help: `print the running stack as JSON on stdout (what ${DEV_INFO_FILE} holds) instead of its summary` }),
  },
  STORE_SETTINGS,
);

export function devCommand(): Command {
  const command = addSettings(
    new Command('dev').description(
      'start the embedded stack on loopback until Ctrl-C: a Temporal dev server (database in the state dir), the artifact ' +
        `service, the workers and the orchestrator; writes <state dir>/${DEV_INFO_FILE} so prune/status/watch/cancel/runs find it`,
    ),
    DEV_SETTINGS,
  );
  return command.action(async (_options: unknown, self: Command) => {
    const settings = commandSettings(self, DEV_SETTINGS);
    const options = settings.values;
    const workers = parseWorkersFlag(options.workers ?? String(availableParallelism()));
    const backend = options.backend;
    const port = options.port;
    const store = storeFromSettings(settings);
    const metricsPort = options.metricsPort;
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
    if (!options.verbose) Runtime.install({ logger: new DefaultLogger('WARN') });
    const stack = await startStack({
      stateDir: options.stateDir,
      workers,
      backend: options.backend,
      ui: options.ui,
      ...(port === undefined ? {} : { temporalPort: port }),
      ...(options.dataDir === undefined ? {} : { dataDir: options.dataDir }),
      ...(options.verbose ? { log: say } : {}),
      ...(store === undefined ? {} : { store }),
      ...(metricsPort === undefined ? {} : { metricsPort }),
    });
    const { info } = stack;
    process.stdout.write(
      options.json
        ? `${JSON.stringify(info, null, 2)}\n`
        : [
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
