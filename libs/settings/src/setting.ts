/** How a value is written in a configuration file and printed back: a word, a number, true/false or a list. */
export type SettingKind = 'text' | 'number' | 'switch' | 'list';

/** Turns the text of a value (a flag's argument, a variable, a file's value) into its typed value. */
export interface ValueParser<T> {
  readonly kind: SettingKind;
  /** The placeholder help shows when the setting names none (`N`, `VALUE`). */
  readonly placeholder: string;
  parse(text: string): T;
}

/** A value of the wrong form: "`<where>` must be `<expected>`, got '`<text>`'". */
export class InvalidValue extends Error {
  override readonly name = 'InvalidValue';
  constructor(readonly expected: string) {
    super(`must be ${expected}`);
  }
}

/** A value of the right form that cannot be used (an unreadable file): "`<where>` `<message>`". */
export class UnusableValue extends Error {
  override readonly name = 'UnusableValue';
}

/** Bad input in a setting: a flag, a variable, a configuration file or its key. The message names it. */
export class SettingsError extends Error {
  override readonly name: string = 'SettingsError';
}

/**
 * One setting, declared once: everything else (a commander option, a node:util parseArgs option,
 * an environment fallback, a configuration-file key, a line of help, a child's command line) is
 * derived from it. Its flag is its name in kebab case (`finetuneSteps` is `--finetune-steps`), and
 * so is its configuration-file key (`finetune-steps:`).
 */
export interface Setting<T> {
  readonly parser: ValueParser<Exclude<T, undefined>>;
  readonly help: string;
  /** The value's placeholder in help (`DIR`); none for a switch. */
  readonly placeholder: string | undefined;
  /** Variables read, in order, when neither a flag nor the configuration file gives the value. */
  readonly env: readonly string[];
  /** The default, as text parsed like any other value; undefined: no value unless given. */
  readonly default: string | undefined;
  /** The default in help when it is decided elsewhere (`one per core`). */
  readonly defaultHelp: string | undefined;
  /** Redacted in a run's recorded configuration and left out of a printed one. */
  readonly secret: boolean;
  /** A flag kept for one release: its replacement's flag. Never a configuration-file key. */
  readonly replacedBy: string | undefined;
  /** Carries the value's type only. */
  readonly valueType?: T;
}

interface SettingOptions<T> {
  parse: ValueParser<T>;
  help: string;
  placeholder?: string;
  env?: string | readonly string[];
  defaultHelp?: string;
  secret?: boolean;
  replacedBy?: string;
}

export function setting<T>(options: SettingOptions<T> & { default: string }): Setting<T>;
export function setting<T>(options: SettingOptions<T>): Setting<T | undefined>;
export function setting<T>(options: SettingOptions<T> & { default?: string }): Setting<T | undefined> {
  return {
    parser: options.parse as ValueParser<Exclude<T | undefined, undefined>>,
    help: options.help,
    placeholder: options.parse.kind === 'switch' ? undefined : (options.placeholder ?? options.parse.placeholder),
    env: options.env === undefined ? [] : typeof options.env === 'string' ? [options.env] : options.env,
    default: options.default,
    defaultHelp: options.defaultHelp,
    secret: options.secret === true,
    replacedBy: options.replacedBy,
  };
}

/** A switch: `--name` turns it on; one that defaults to on is turned off by `--no-name`. */
export function toggle(options: { help: string; default?: boolean; env?: string | readonly string[] }): Setting<boolean> {
  return setting({
    parse: SWITCH,
    help: options.help,
    default: String(options.default === true),
    ...(options.env === undefined ? {} : { env: options.env }),
  });
}

export type SettingSet = Readonly<Record<string, Setting<unknown>>>;

/** The typed values of a set: optional settings without a default may be undefined. */
export type ValuesOf<S extends SettingSet> = { -readonly [K in keyof S]: S[K] extends Setting<infer T> ? T : never };

/** Several sets as one; a name in two of them is a mistake in the program, not in its input. */
export function combineSets<A extends SettingSet, B extends SettingSet>(a: A, b: B): A & B;
export function combineSets<A extends SettingSet, B extends SettingSet, C extends SettingSet>(a: A, b: B, c: C): A & B & C;
export function combineSets<A extends SettingSet, B extends SettingSet, C extends SettingSet, D extends SettingSet>(a: A, b: B, c: C, d: D): A & B & C & D;
export function combineSets(...sets: SettingSet[]): SettingSet {
  const combined: Record<string, Setting<unknown>> = {};
  for (const set of sets) {
    for (const [name, spec] of Object.entries(set)) {
      if (name in combined && combined[name] !== spec) throw new Error(`setting ${name} is declared twice`);
      combined[name] = spec;
    }
  }
  return combined;
}

/** The flag (without dashes) and configuration-file key of a setting name. */
export function flagOf(name: string): string {
  return name.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);
}

/** The setting name of a flag or key (`finetune-steps` -> `finetuneSteps`). */
export function nameOf(flag: string): string {
  return flag.replace(/-([a-z0-9])/g, (_, letter: string) => letter.toUpperCase());
}

const TRUE_WORDS = new Set(['1', 'true', 'yes', 'on']);
const FALSE_WORDS = new Set(['0', 'false', 'no', 'off']);

export const SWITCH: ValueParser<boolean> = {
  kind: 'switch',
  placeholder: '',
  parse(text) {
    const word = text.trim().toLowerCase();
    if (TRUE_WORDS.has(word)) return true;
    if (FALSE_WORDS.has(word)) return false;
    throw new InvalidValue('true or false (1/0, yes/no)');
  },
};

/** A set without some of its settings (a command that takes another's settings but these). */
export function omitSettings<S extends SettingSet, K extends keyof S & string>(set: S, names: readonly K[]): Omit<S, K> {
  const kept: Record<string, Setting<unknown>> = {};
  for (const [name, spec] of Object.entries(set)) if (!(names as readonly string[]).includes(name)) kept[name] = spec;
  return kept as Omit<S, K>;
}
