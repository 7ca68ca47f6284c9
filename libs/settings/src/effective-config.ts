import { stringify } from 'yaml';
import { flagOf } from './setting';
import type { Setting, SettingSet } from './setting';
import type { Resolved } from './resolve';

/** A value as a configuration file holds it. */
export type ConfigValue = string | number | boolean | string[];

/** Configuration-file key -> value: what a run used, after flags, file, environment and defaults. */
export type EffectiveConfig = Record<string, ConfigValue>;

export const REDACTED = '<redacted>';

function configValue(spec: Setting<unknown>, text: string): ConfigValue {
  switch (spec.parser.kind) {
    case 'number':
      return Number(text);
    case 'switch':
      return spec.parser.parse(text) as boolean;
    case 'list':
      return text
        .split(',')
        .map((part) => part.trim())
        .filter((part) => part !== '');
    default:
      return text;
  }
}

/**
 * The effective configuration of a run: every setting that has a value (flags kept for one
 * release left out: their replacement carries the value), secrets redacted. Recorded in
 * summary.json and shown in the report.
 */
export function effectiveConfig<S extends SettingSet>(resolved: Resolved<S>): EffectiveConfig {
  const config: EffectiveConfig = {};
  for (const [name, spec] of Object.entries(resolved.set)) {
    const text = resolved.text(name);
    if (text === undefined || spec.replacedBy !== undefined) continue;
    config[flagOf(name)] = spec.secret ? REDACTED : configValue(spec, text);
  }
  return config;
}

/**
 * The effective configuration as a YAML file to start from: every setting with its help as a
 * comment, unset ones and secrets commented out. Given back with --config, it makes the same run
 * (secrets come from their variables, as their comments say).
 */
export function configFileText<S extends SettingSet>(resolved: Resolved<S>, heading: string, overrides: EffectiveConfig = {}): string {
  const lines = heading.split('\n').map((line) => `# ${line}`.trimEnd());
  for (const [name, spec] of Object.entries(resolved.set)) {
    if (spec.replacedBy !== undefined) continue;
    const key = flagOf(name);
    const text = resolved.text(name);
    const value = overrides[key] ?? (text === undefined ? undefined : configValue(spec, text));
    lines.push('', `# ${spec.help}`);
    if (spec.secret) lines.push(`# ${key}: (secret: give it by ${spec.env.length > 0 ? spec.env.map((variable) => `$${variable}`).join(' or ') : `--${key}`})`);
    else if (value === undefined) lines.push(`# ${key}:`);
    else lines.push(stringify({ [key]: value }, { lineWidth: 0 }).trimEnd());
  }
  return `${lines.join('\n')}\n`;
}
