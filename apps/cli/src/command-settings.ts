import type { Command } from 'commander';
import { SettingsError, addSettingOptions, givenOptions, readConfigFile, resolveSettings } from '@ippro/settings';
import type { Resolved, SettingSet } from '@ippro/settings';
import { UsageError } from './exit-codes';

const CONFIG_HELP = 'settings from a YAML or JSON file (keys: the flags without dashes); flags win over it, it wins over environment variables and defaults';

/** The options of `set`, and --config, on `command`. */
export function addSettings(command: Command, set: SettingSet): Command {
  return addSettingOptions(command, set).option('--config <file>', CONFIG_HELP);
}

/** Settings errors are bad input: exit code 2, before any work. */
export function asUsage<T>(read: () => T): T {
  try {
    return read();
  } catch (error) {
    throw error instanceof SettingsError ? new UsageError(error.message) : error;
  }
}

/** The settings of `set` from `command`'s flags, its --config file, the environment and the defaults. */
export function commandSettings<S extends SettingSet>(command: Command, set: S, env: NodeJS.ProcessEnv = process.env): Resolved<S> {
  return asUsage(() => {
    const path = command.opts<{ config?: string }>().config;
    const file = path === undefined ? undefined : readConfigFile(path);
    return resolveSettings(set, { flags: givenOptions(command, set), env, ...(file === undefined ? {} : { file }) });
  });
}
