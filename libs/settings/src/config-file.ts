import { readFileSync } from 'node:fs';
import { LineCounter, isMap, isScalar, parseDocument } from 'yaml';
import { SettingsError } from './setting';

/** One key of a configuration file: its value as YAML or JSON gives it, and the line it is on. */
export interface ConfigEntry {
  value: unknown;
  line: number;
}

/** A configuration file: a mapping of setting keys (`finetune-steps: 100`) to values. */
export interface ConfigFile {
  path: string;
  entries: ReadonlyMap<string, ConfigEntry>;
}

/** Reads a YAML or JSON (a subset of YAML) configuration file; SettingsError names the file and line of any fault. */
export function readConfigFile(path: string): ConfigFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new SettingsError(`--config ${path}: cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  return parseConfigText(text, path);
}

export function parseConfigText(text: string, path: string): ConfigFile {
  const lines = new LineCounter();
  const document = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  const error = document.errors[0];
  if (error !== undefined) {
    const line = lines.linePos(error.pos[0]).line;
    throw new SettingsError(`${path}:${line}: not valid YAML or JSON: ${error.message.split('\n', 1)[0]}`);
  }
  const entries = new Map<string, ConfigEntry>();
  const root = document.contents;
  if (root === null) return { path, entries };
  if (!isMap(root)) throw new SettingsError(`${path}:${lines.linePos(root.range?.[0] ?? 0).line}: a configuration file is a mapping of settings (key: value)`);
  const values = document.toJS() as Record<string, unknown>;
  for (const pair of root.items) {
    const key = pair.key;
    const line = lines.linePos(isScalar(key) ? (key.range?.[0] ?? 0) : 0).line;
    if (!isScalar(key) || typeof key.value !== 'string') throw new SettingsError(`${path}:${line}: a key must be a setting's name`);
    entries.set(key.value, { value: values[key.value] ?? null, line });
  }
  return { path, entries };
}
