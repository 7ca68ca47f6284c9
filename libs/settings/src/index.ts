export {
  InvalidValue,
  SWITCH,
  SettingsError,
  UnusableValue,
  combineSets,
  flagOf,
  nameOf,
  omitSettings,
  setting,
  toggle,
  type Setting,
  type SettingKind,
  type SettingSet,
  type ValueParser,
  type ValuesOf,
} from './setting';
export {
  INTEGER,
  NON_NEGATIVE_INTEGER,
  NON_NEGATIVE_NUMBER,
  OPEN_FRACTION,
  POSITIVE_INTEGER,
  POSITIVE_NUMBER,
  SECRET_FILE,
  TEXT,
  hostPort,
  integerAtLeast,
  listOf,
  numberWhere,
  oneOf,
  parser,
  port,
} from './parsers';
export { parseConfigText, readConfigFile, type ConfigEntry, type ConfigFile } from './config-file';
export { describeOrigin, required, resolveSettings, together, type GivenFlags, type Origin, type Resolved, type SettingSources } from './resolve';
export { REDACTED, configFileText, effectiveConfig, type ConfigValue, type EffectiveConfig } from './effective-config';
export { helpLine } from './help';
export { addSettingOptions, givenOptions, settingOption } from './commander-options';
export { CONFIG_USAGE, commandLineFor, parseCommandLine, usageLines, type ParsedCommandLine } from './command-line';
