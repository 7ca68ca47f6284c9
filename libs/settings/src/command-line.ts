import { parseArgs } from 'node:util';
import { helpLine } from './help';
import { SettingsError, flagOf } from './setting';
import type { SettingSet } from './setting';
import type { GivenFlags } from './resolve';

/** What a program's own command line holds: the settings given, and the file of --config. */
export interface ParsedCommandLine {
  flags: GivenFlags;
  config?: string;
  help: boolean;
}

/** The flag a switch is given by: `--name`, or `--no-name` for one that is on by default. */
function switchFlag(flag: string, defaultText: string | undefined): string {
  return defaultText === 'true' ? `no-${flag}` : flag;
}

/** Parses a program's command line (node:util parseArgs) with the options derived from `set`, plus --config and --help. */
export function parseCommandLine(set: SettingSet, argv: readonly string[]): ParsedCommandLine {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = { config: { type: 'string' }, help: { type: 'boolean', short: 'h' } };
  for (const [name, spec] of Object.entries(set)) {
    const flag = flagOf(name);
    options[spec.placeholder === undefined ? switchFlag(flag, spec.default) : flag] = { type: spec.placeholder === undefined ? 'boolean' : 'string' };
  }
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }));
  } catch (error) {
    throw new SettingsError((error as Error).message);
  }
  const flags: Record<string, string | boolean> = {};
  for (const [name, spec] of Object.entries(set)) {
    const flag = flagOf(name);
    const value = values[spec.placeholder === undefined ? switchFlag(flag, spec.default) : flag];
    if (value !== undefined) flags[name] = spec.placeholder === undefined && spec.default === 'true' ? false : value;
  }
  const config = values['config'];
  return { flags, ...(typeof config === 'string' ? { config } : {}), help: values['help'] === true };
}

/** The command line that gives a child process these settings (text values, switches true or false), in the set's order. */
export function commandLineFor<S extends SettingSet>(set: S, values: Partial<Record<keyof S & string, string | boolean>>): string[] {
  const argv: string[] = [];
  for (const [name, spec] of Object.entries(set)) {
    const value = values[name as keyof S & string];
    if (value === undefined) continue;
    const flag = flagOf(name);
    if (spec.placeholder !== undefined) argv.push(`--${flag}`, String(value));
    else if (String(value) !== spec.default) argv.push(`--${switchFlag(flag, spec.default)}`);
  }
  return argv;
}

/** Usage lines of a set, flags padded to `width` after an indent of two. */
export function usageLines(set: SettingSet, width = 28): string {
  return Object.entries(set)
    .filter(([, spec]) => spec.replacedBy === undefined)
    .map(([name, spec]) => {
      const flag = flagOf(name);
      const left = `  --${spec.placeholder === undefined ? switchFlag(flag, spec.default) : `${flag} ${spec.placeholder}`}`;
      return `${left.padEnd(width)} ${helpLine(spec)}\n`;
    })
    .join('');
}

/** The --config line of every program's usage. */
export const CONFIG_USAGE = '  --config FILE              settings from a YAML or JSON file (key: the flag without dashes); flags win over it, it wins over variables and defaults\n';
