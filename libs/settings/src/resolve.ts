import type { ConfigFile } from './config-file';
import { InvalidValue, SettingsError, UnusableValue, flagOf, nameOf } from './setting';
import type { Setting, SettingSet, ValuesOf } from './setting';

/** Where a setting's value came from. */
export type Origin =
  | { kind: 'flag'; flag: string }
  | { kind: 'file'; key: string; file: string; line: number }
  | { kind: 'env'; variable: string }
  | { kind: 'default' }
  | { kind: 'unset' };

/** Flag values as a parser reports them, by setting name: only the flags given on the command line. */
export type GivenFlags = Readonly<Record<string, string | boolean | undefined>>;

export interface SettingSources {
  flags?: GivenFlags;
  file?: ConfigFile;
  env?: NodeJS.ProcessEnv;
}

/** A set's values after flags, the configuration file, the environment and the defaults, in that order. */
export interface Resolved<S extends SettingSet> {
  readonly set: S;
  readonly values: ValuesOf<S>;
  origin(name: keyof S & string): Origin;
  /** Given by a flag, the file or a variable (not a default). */
  given(name: keyof S & string): boolean;
  /** The setting as its value's origin names it (`--tls-cert`, `$IPPRO_STORE`, `tls-cert in c.yaml:4`); its flag when unset. */
  where(name: keyof S & string): string;
  /** The text the value was read from; undefined when unset. */
  text(name: keyof S & string): string | undefined;
}

export function describeOrigin(origin: Origin, name: string): string {
  switch (origin.kind) {
    case 'flag':
      return `--${origin.flag}`;
    case 'file':
      return `${origin.key} in ${origin.file}:${origin.line}`;
    case 'env':
      return `$${origin.variable}`;
    default:
      return `--${flagOf(name)}`;
  }
}

/** The sentence for a value `spec` cannot take, naming where it came from. */
function badValue(error: unknown, where: string, text: string): SettingsError {
  if (error instanceof InvalidValue) return new SettingsError(`${where} must be ${error.expected}, got '${text}'`);
  if (error instanceof UnusableValue) return new SettingsError(`${where} ${error.message}`);
  return new SettingsError(`${where}: ${(error as Error).message}`);
}

/** A file's value as the text a flag would carry; SettingsError when its form does not fit the setting. */
function fileText(spec: Setting<unknown>, value: unknown, where: string): string | undefined {
  if (value === null || value === undefined) return undefined;
  const scalar = (item: unknown): string => {
    if (typeof item === 'string' || typeof item === 'number' || typeof item === 'boolean') return String(item);
    throw new SettingsError(`${where} must be ${spec.parser.kind === 'list' ? 'a list of values' : 'a single value'}, got ${JSON.stringify(item)}`);
  };
  if (Array.isArray(value) && spec.parser.kind === 'list') return value.map(scalar).join(',');
  return scalar(value);
}

function closest(key: string, keys: readonly string[]): string | undefined {
  const distance = (a: string, b: string): number => {
    let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
    for (let i = 1; i <= a.length; i += 1) {
      const current = [i];
      for (let j = 1; j <= b.length; j += 1) current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
    return previous[b.length] ?? Infinity;
  };
  const best = keys.map((candidate) => ({ candidate, cost: distance(key, candidate) })).sort((x, y) => x.cost - y.cost)[0];
  return best !== undefined && best.cost <= Math.max(2, Math.floor(key.length / 4)) ? best.candidate : undefined;
}

/** Unknown keys, and keys of flags kept only for a release, are errors naming the file and line. */
function checkFileKeys(set: SettingSet, file: ConfigFile): void {
  const keys = Object.entries(set)
    .filter(([, spec]) => spec.replacedBy === undefined)
    .map(([name]) => flagOf(name));
  for (const [key, entry] of file.entries) {
    const spec = set[nameOf(key)];
    if (spec !== undefined && flagOf(nameOf(key)) === key && spec.replacedBy === undefined) continue;
    const hint = spec?.replacedBy !== undefined ? ` (use ${spec.replacedBy})` : closest(key, keys) === undefined ? '' : ` (did you mean ${closest(key, keys)}?)`;
    throw new SettingsError(`unknown key '${key}' in ${file.path}:${entry.line}${hint}`);
  }
}

/**
 * Each setting of `set` from the first source that gives it: a flag, the configuration file, its
 * environment variables (an empty one counts as unset), its default. Every value is parsed;
 * SettingsError names the flag, variable, or key with its file and line.
 */
export function resolveSettings<S extends SettingSet>(set: S, sources: SettingSources): Resolved<S> {
  const env = sources.env ?? {};
  if (sources.file !== undefined) checkFileKeys(set, sources.file);
  const values: Record<string, unknown> = {};
  const origins: Record<string, Origin> = {};
  const texts: Record<string, string> = {};
  for (const [name, spec] of Object.entries(set)) {
    const flag = flagOf(name);
    const [text, origin] = ((): [string | undefined, Origin] => {
      const given = sources.flags?.[name];
      if (given !== undefined) return [String(given), { kind: 'flag', flag: given === false && spec.default === 'true' ? `no-${flag}` : flag }];
      const entry = sources.file?.entries.get(flag);
      if (entry !== undefined && sources.file !== undefined) {
        const origin: Origin = { kind: 'file', key: flag, file: sources.file.path, line: entry.line };
        const fromFile = fileText(spec, entry.value, describeOrigin(origin, name));
        if (fromFile !== undefined) return [fromFile, origin];
      }
      for (const variable of spec.env) {
        const value = env[variable];
        if (value !== undefined && value.trim() !== '') return [value.trim(), { kind: 'env', variable }];
      }
      return spec.default === undefined ? [undefined, { kind: 'unset' }] : [spec.default, { kind: 'default' }];
    })();
    origins[name] = origin;
    if (text === undefined) {
      values[name] = undefined;
      continue;
    }
    texts[name] = text;
    try {
      values[name] = spec.parser.parse(text);
    } catch (error) {
      throw badValue(error, describeOrigin(origin, name), text);
    }
  }
  const originOf = (name: string): Origin => origins[name] ?? { kind: 'unset' };
  return {
    set,
    values: values as ValuesOf<S>,
    origin: originOf,
    given: (name) => ['flag', 'file', 'env'].includes(originOf(name).kind),
    where: (name) => describeOrigin(originOf(name), name),
    text: (name) => texts[name],
  };
}

/** The value of a setting the command cannot do without; SettingsError naming the flag and key otherwise. */
export function required<S extends SettingSet, K extends keyof S & string>(resolved: Resolved<S>, name: K): Exclude<ValuesOf<S>[K], undefined> {
  const value = resolved.values[name];
  if (value === undefined) throw new SettingsError(`--${flagOf(name)} is required (a flag, or the key ${flagOf(name)} in --config)`);
  return value as Exclude<ValuesOf<S>[K], undefined>;
}

/** Two settings that mean something only together (a certificate and its key). */
export function together<S extends SettingSet>(resolved: Resolved<S>, first: keyof S & string, second: keyof S & string): void {
  const [a, b] = [resolved.values[first] !== undefined, resolved.values[second] !== undefined];
  if (a !== b) throw new SettingsError(`${a ? resolved.where(first) : resolved.where(second)} and --${flagOf(a ? second : first)} go together`);
}
