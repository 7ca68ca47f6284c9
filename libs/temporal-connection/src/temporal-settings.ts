import { readFileSync } from 'node:fs';
import { TemporalTargetError } from './temporal-target';
import type { TemporalTarget, TemporalTlsOptions } from './temporal-target';

/** The values of the Temporal flags, keyed as a flag parser (commander) names them. */
export interface TemporalSettingValues {
  temporal?: string;
  namespace?: string;
  taskQueue?: string;
  tls?: boolean;
  tlsCa?: string;
  tlsCert?: string;
  tlsKey?: string;
  tlsServerName?: string;
  apiKey?: string;
}

/** One Temporal setting: its flag, its environment variable and its help line. */
export interface TemporalSettingSpec {
  /** The flag without its dashes, e.g. `tls-ca`. */
  flag: string;
  key: keyof TemporalSettingValues;
  /** Placeholder of the value (e.g. `FILE`); absent for a switch. */
  value?: string;
  env: string;
  help: string;
}

/**
 * Every program that talks to Temporal (the ippro commands, the orchestrator) takes these, with
 * the same names and environment variables. A flag wins over its variable.
 */
export const TEMPORAL_SETTINGS: readonly TemporalSettingSpec[] = [
  { flag: 'temporal', key: 'temporal', value: 'HOST:PORT', env: 'IPPRO_TEMPORAL_ADDRESS', help: 'Temporal frontend address' },
  { flag: 'namespace', key: 'namespace', value: 'NAME', env: 'IPPRO_TEMPORAL_NAMESPACE', help: 'Temporal namespace (default: default)' },
  { flag: 'task-queue', key: 'taskQueue', value: 'NAME', env: 'IPPRO_TASK_QUEUE', help: 'task queue of the orchestrator (default: ippro)' },
  { flag: 'tls', key: 'tls', env: 'IPPRO_TEMPORAL_TLS', help: 'TLS to Temporal, server checked against the system roots' },
  { flag: 'tls-ca', key: 'tlsCa', value: 'FILE', env: 'IPPRO_TEMPORAL_TLS_CA', help: 'TLS: CA certificate (PEM) that signed the server certificate' },
  { flag: 'tls-cert', key: 'tlsCert', value: 'FILE', env: 'IPPRO_TEMPORAL_TLS_CERT', help: 'mutual TLS: client certificate (PEM), with --tls-key' },
  { flag: 'tls-key', key: 'tlsKey', value: 'FILE', env: 'IPPRO_TEMPORAL_TLS_KEY', help: 'mutual TLS: client private key (PEM)' },
  { flag: 'tls-server-name', key: 'tlsServerName', value: 'NAME', env: 'IPPRO_TEMPORAL_TLS_SERVER_NAME', help: 'TLS: name the server certificate must carry' },
  { flag: 'api-key', key: 'apiKey', value: 'KEY', env: 'IPPRO_TEMPORAL_API_KEY', help: 'API key (Temporal Cloud), sent as a bearer token; implies TLS. Prefer the variable' },
];

/** What the flags and the environment say; unset parts are left to the caller (a dev.json, the defaults). */
export interface TemporalSettings {
  /** Only the parts that were given. */
  target: TemporalTarget;
  taskQueue?: string;
  /** Where the address came from (`--temporal` or `$IPPRO_TEMPORAL_ADDRESS`); undefined when neither set it. */
  addressSource?: string;
}

const ADDRESS = /^(\[[0-9A-Fa-f:.]+\]|[^\s:[\]]+):(\d{1,5})$/;
const TRUE_WORDS = new Set(['1', 'true', 'yes', 'on']);
const FALSE_WORDS = new Set(['0', 'false', 'no', 'off']);

function specOf(key: keyof TemporalSettingValues): TemporalSettingSpec {
  return TEMPORAL_SETTINGS.find((spec) => spec.key === key) as TemporalSettingSpec;
}

/** The value of a setting and the name to blame for it (`--flag` or `$VARIABLE`); empty variables count as unset. */
function pick<K extends keyof TemporalSettingValues>(values: TemporalSettingValues, env: NodeJS.ProcessEnv, key: K): { value: TemporalSettingValues[K]; from: string } | undefined {
  const spec = specOf(key);
  const given = values[key];
  if (given !== undefined) return { value: given, from: `--${spec.flag}` };
  const text = env[spec.env];
  if (text === undefined || text.trim() === '') return undefined;
  if (key !== 'tls') return { value: text.trim() as TemporalSettingValues[K], from: `$${spec.env}` };
  const word = text.trim().toLowerCase();
  if (TRUE_WORDS.has(word)) return { value: true as TemporalSettingValues[K], from: `$${spec.env}` };
  if (FALSE_WORDS.has(word)) return { value: false as TemporalSettingValues[K], from: `$${spec.env}` };
  throw new TemporalTargetError(`$${spec.env} must be true or false (1/0, yes/no), got '${text}'`);
}

/** Throws naming the setting unless `path` is a readable PEM file. */
function checkPemFile(path: string, from: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new TemporalTargetError(`${from} ${path}: cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  if (!text.includes('-----BEGIN ')) throw new TemporalTargetError(`${from} ${path}: not a PEM file (no -----BEGIN line)`);
  return path;
}

function checkAddress(address: string, from: string): string {
  const match = ADDRESS.exec(address);
  const port = Number(match?.[2]);
  if (match === null || port < 1 || port > 65535) throw new TemporalTargetError(`${from} must be HOST:PORT, got '${address}'`);
  return address;
}

function checkName(name: string, from: string): string {
  if (name.trim() === '' || /\s/.test(name)) throw new TemporalTargetError(`${from} must be a name without spaces, got '${name}'`);
  return name;
}

function tlsFrom(values: TemporalSettingValues, env: NodeJS.ProcessEnv): boolean | TemporalTlsOptions | undefined {
  const ca = pick(values, env, 'tlsCa');
  const cert = pick(values, env, 'tlsCert');
  const key = pick(values, env, 'tlsKey');
  const serverName = pick(values, env, 'tlsServerName');
  if ((cert === undefined) !== (key === undefined)) {
    const [given, missing] = cert === undefined ? [key, '--tls-cert'] : [cert, '--tls-key'];
    throw new TemporalTargetError(`${given?.from} needs ${missing} too (mutual TLS takes a certificate and its key)`);
  }
  const files: TemporalTlsOptions = {
    ...(ca === undefined ? {} : { serverCaFile: checkPemFile(ca.value as string, ca.from) }),
    ...(cert === undefined ? {} : { clientCertFile: checkPemFile(cert.value as string, cert.from) }),
    ...(key === undefined ? {} : { clientKeyFile: checkPemFile(key.value as string, key.from) }),
    ...(serverName === undefined ? {} : { serverNameOverride: checkName(serverName.value as string, serverName.from) }),
  };
  const tls = pick(values, env, 'tls');
  if (Object.keys(files).length > 0) {
    if (tls?.value === false) throw new TemporalTargetError(`${tls.from} turns TLS off, but TLS files or a server name are given`);
    return files;
  }
  return tls?.value === true ? true : undefined;
}

/**
 * Reads the Temporal settings from flag values and the environment (flags win), checks them
 * (addresses, names, readable PEM files, certificate with key) and returns what was given.
 * Throws TemporalTargetError naming the flag or variable at fault.
 */
export function temporalSettingsFrom(values: TemporalSettingValues, env: NodeJS.ProcessEnv = process.env): TemporalSettings {
  const address = pick(values, env, 'temporal');
  const namespace = pick(values, env, 'namespace');
  const taskQueue = pick(values, env, 'taskQueue');
  const apiKey = pick(values, env, 'apiKey');
  if (apiKey !== undefined && (apiKey.value as string).trim() === '') throw new TemporalTargetError(`${apiKey.from} is empty`);
  const tls = tlsFrom(values, env);
  const target: TemporalTarget = {
    ...(address === undefined ? {} : { address: checkAddress(address.value as string, address.from) }),
    ...(namespace === undefined ? {} : { namespace: checkName(namespace.value as string, namespace.from) }),
    ...(tls === undefined ? {} : { tls }),
    ...(apiKey === undefined ? {} : { apiKey: apiKey.value as string }),
  };
  return {
    target,
    ...(taskQueue === undefined ? {} : { taskQueue: checkName(taskQueue.value as string, taskQueue.from) }),
    ...(address === undefined ? {} : { addressSource: address.from }),
  };
}

/** The settings as usage lines (`  --tls-ca FILE  ... ($IPPRO_TEMPORAL_TLS_CA)`), for a hand-written --help. */
export function temporalSettingsUsage(width = 26): string {
  return TEMPORAL_SETTINGS.map((spec) => {
    const left = `  --${spec.flag}${spec.value === undefined ? '' : ` ${spec.value}`}`;
    return `${left.padEnd(width)} ${spec.help} ($${spec.env})`;
  }).join('\n');
}
