import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { SettingsError, addSettingOptions, configFileText, givenOptions, readConfigFile, resolveSettings } from '@ippro/settings';
import type { EffectiveConfig, Resolved, SettingSet } from '@ippro/settings';
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

export const PRINT_CONFIG_HELP = 'write the effective configuration as a YAML file to start from (to stdout, or FILE) and run nothing; --config FILE makes the same run';

/**
 * With --print-config: writes the command's effective configuration (flags, --config, variables,
 * defaults; `config` overrides values such as a converted budget) and returns true.
 */
export async function printConfigIfAsked<S extends SettingSet>(command: Command, resolved: Resolved<S>, heading: string, config: EffectiveConfig): Promise<boolean> {
  const target = command.opts<{ printConfig?: string | boolean }>().printConfig;
  if (target === undefined || target === false) return false;
  const text = configFileText(resolved, `${heading}: the effective configuration (flags, then --config, then variables, then defaults).\nGive it back with --config FILE; flags given with it win over its values.`, config);
  if (target === true) process.stdout.write(text);
  else await writeFile(target, text);
  return true;
}
