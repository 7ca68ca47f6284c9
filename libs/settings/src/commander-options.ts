import { Option } from 'commander';
import type { Command } from 'commander';
import { helpLine } from './help';
import { flagOf } from './setting';
import type { Setting, SettingSet } from './setting';
import type { GivenFlags } from './resolve';

/** The commander option of a setting. It has no commander default: the default is the last source, after the file and the environment. */
export function settingOption(name: string, spec: Setting<unknown>): Option {
  const flag = flagOf(name);
  const flags = spec.placeholder === undefined ? (spec.default === 'true' ? `--no-${flag}` : `--${flag}`) : `--${flag} <${spec.placeholder.toLowerCase()}>`;
  const option = new Option(flags, helpLine(spec));
  if (spec.replacedBy !== undefined) option.hideHelp();
  return option;
}

/** Adds an option per setting of `set` to `command`. */
export function addSettingOptions(command: Command, set: SettingSet): Command {
  for (const [name, spec] of Object.entries(set)) command.addOption(settingOption(name, spec));
  return command;
}

/** The settings of `set` given on `command`'s command line (not commander's implied defaults). */
export function givenOptions(command: Command, set: SettingSet): GivenFlags {
  const options = command.opts<Record<string, string | boolean | undefined>>();
  const given: Record<string, string | boolean> = {};
  for (const name of Object.keys(set)) {
    const value = options[name];
    if (command.getOptionValueSource(name) === 'cli' && value !== undefined) given[name] = value;
  }
  return given;
}
