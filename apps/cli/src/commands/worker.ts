import { Command } from 'commander';
import { WORKER_SETTINGS, runWorkerProcess, workerProcessOptionsFrom } from '@ippro/compute';
import { addSettings, asUsage, commandSettings } from '../command-settings';

export function workerCommand(): Command {
  return addSettings(new Command('worker').description('serve the gRPC compute WorkerService (one per core or GPU) until SIGTERM'), WORKER_SETTINGS).action(
    async (_options: unknown, command: Command) => {
      const settings = commandSettings(command, WORKER_SETTINGS);
      const code = await runWorkerProcess(asUsage(() => workerProcessOptionsFrom(settings)));
      if (code !== 0) throw new Error('the worker did not shut down cleanly');
    },
  );
}
