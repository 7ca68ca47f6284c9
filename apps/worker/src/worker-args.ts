import { WORKER_SETTINGS, workerProcessOptionsFrom } from '@ippro/compute';
import type { WorkerProcessOptions } from '@ippro/compute';
import { CONFIG_USAGE, SettingsError, parseCommandLine, readConfigFile, resolveSettings, usageLines } from '@ippro/settings';

export const WORKER_USAGE = `usage: ippro-worker [options]   (the same as ippro worker)

${usageLines(WORKER_SETTINGS)}${CONFIG_USAGE}`;

/** A flag, variable or configuration-file key was wrong; the message names it. */
export class WorkerUsageError extends Error {
  override readonly name = 'WorkerUsageError';
}

/** The worker's options from its command line, its --config file and the environment (see WORKER_USAGE). */
export function parseWorkerArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): WorkerProcessOptions {
  try {
    const { flags, config } = parseCommandLine(WORKER_SETTINGS, argv);
    const file = config === undefined ? undefined : readConfigFile(config);
    return workerProcessOptionsFrom(resolveSettings(WORKER_SETTINGS, { flags, env, ...(file === undefined ? {} : { file }) }));
  } catch (error) {
    throw error instanceof SettingsError ? new WorkerUsageError(error.message) : error;
  }
}
