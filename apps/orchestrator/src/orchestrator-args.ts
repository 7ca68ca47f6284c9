import { ORCHESTRATOR_SETTINGS, ORCHESTRATOR_SETTING_GROUPS, orchestratorProcessOptionsFrom } from '@ippro/orchestration';
import type { OrchestratorDefaults, OrchestratorProcessOptions } from '@ippro/orchestration';
import { CONFIG_USAGE, SettingsError, parseCommandLine, readConfigFile, resolveSettings, usageLines } from '@ippro/settings';

export const ORCHESTRATOR_USAGE = `Usage: ippro-orchestrator [flags]

Runs the Temporal worker of the pruneModel and scheduledPrune workflows and their activities until
SIGINT/SIGTERM. Flags win over the configuration file, which wins over the environment variables in brackets.

${Object.values(ORCHESTRATOR_SETTING_GROUPS)
  .map((group) => `${group.title}:\n${usageLines(group.set)}`)
  .join('\n')}
${CONFIG_USAGE}`;

/** A flag, variable or configuration-file key was wrong; the message names it. */
export class OrchestratorUsageError extends Error {
  override readonly name = 'OrchestratorUsageError';
}

/** Flags, the --config file and the environment -> options. Throws OrchestratorUsageError naming the setting at fault. */
export function parseOrchestratorArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env, defaults: OrchestratorDefaults = {}): OrchestratorProcessOptions {
  try {
    const { flags, config } = parseCommandLine(ORCHESTRATOR_SETTINGS, argv);
    const file = config === undefined ? undefined : readConfigFile(config);
    return orchestratorProcessOptionsFrom(resolveSettings(ORCHESTRATOR_SETTINGS, { flags, env, ...(file === undefined ? {} : { file }) }), defaults);
  } catch (error) {
    throw error instanceof SettingsError ? new OrchestratorUsageError(error.message) : error;
  }
}
