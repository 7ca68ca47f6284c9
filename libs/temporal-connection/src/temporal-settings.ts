import { readFileSync } from 'node:fs';
import { SECRET_FILE, SettingsError, TEXT, UnusableValue, hostPort, parser, resolveSettings, setting, toggle } from '@ippro/settings';
import type { GivenFlags, Resolved } from '@ippro/settings';
import { TemporalTargetError } from './temporal-target';
import type { TemporalTarget, TemporalTlsOptions } from './temporal-target';

const NAME = parser('text', 'NAME', (text) => {
  if (text.trim() === '' || /\s/.test(text)) throw new UnusableValue(`must be a name without spaces, got '${text}'`);
  return text;
});

/** A readable PEM file: checked when the settings are read, so a bad path is bad input before any connection. */
const PEM_FILE = parser('text', 'FILE', (path) => {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UnusableValue(`${path}: cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  if (!text.includes('-----BEGIN ')) throw new UnusableValue(`${path}: not a PEM file (no -----BEGIN line)`);
  return path;
});

const API_KEY = parser('text', 'KEY', (text) => {
  if (text.trim() === '') throw new UnusableValue('is empty');
  return TEXT.parse(text);
});

/**
 * Every program that talks to Temporal (the ippro commands, the orchestrator) takes these, with
 * the same flags, variables and configuration-file keys.
 */
export const TEMPORAL_SETTINGS = {
  temporal: setting({ parse: hostPort(false), help: 'Temporal frontend address', env: 'IPPRO_TEMPORAL_ADDRESS' }),
  namespace: setting({ parse: NAME, help: 'Temporal namespace', defaultHelp: 'default', env: 'IPPRO_TEMPORAL_NAMESPACE' }),
  taskQueue: setting({ parse: NAME, help: 'task queue of the orchestrator', defaultHelp: 'ippro', env: 'IPPRO_TASK_QUEUE' }),
  tls: toggle({ help: 'TLS to Temporal, server checked against the system roots', env: 'IPPRO_TEMPORAL_TLS' }),
  tlsCa: setting({ parse: PEM_FILE, help: 'TLS: CA certificate (PEM) that signed the server certificate', env: 'IPPRO_TEMPORAL_TLS_CA' }),
  tlsCert: setting({ parse: PEM_FILE, help: 'mutual TLS: client certificate (PEM), with --tls-key', env: 'IPPRO_TEMPORAL_TLS_CERT' }),
  tlsKey: setting({ parse: PEM_FILE, help: 'mutual TLS: client private key (PEM)', env: 'IPPRO_TEMPORAL_TLS_KEY' }),
  tlsServerName: setting({ parse: NAME, help: 'TLS: name the server certificate must carry', env: 'IPPRO_TEMPORAL_TLS_SERVER_NAME' }),
  apiKey: setting({ parse: API_KEY, help: 'API key (Temporal Cloud), sent as a bearer token; implies TLS. Prefer the variable or --api-key-file', env: 'IPPRO_TEMPORAL_API_KEY', secret: true }),
  apiKeyFile: setting({ parse: SECRET_FILE, help: 'the API key read from FILE (e.g. a mounted Secret), instead of --api-key', env: 'IPPRO_TEMPORAL_API_KEY_FILE', secret: true }),
};

export type TemporalSettingsSet = typeof TEMPORAL_SETTINGS;

/** What the settings say; unset parts are left to the caller (a dev.json, the defaults). */
export interface TemporalSettings {
  /** Only the parts that were given. */
  target: TemporalTarget;
  taskQueue?: string;
  /** Where the address came from (`--temporal`, `$IPPRO_TEMPORAL_ADDRESS`, a file's key); undefined when nothing set it. */
  addressSource?: string;
}

function tlsFrom(resolved: Resolved<TemporalSettingsSet>): boolean | TemporalTlsOptions | undefined {
  const { tlsCa, tlsCert, tlsKey, tlsServerName, tls } = resolved.values;
  if ((tlsCert === undefined) !== (tlsKey === undefined)) {
    const [given, missing] = tlsCert === undefined ? [resolved.where('tlsKey'), '--tls-cert'] : [resolved.where('tlsCert'), '--tls-key'];
    throw new TemporalTargetError(`${given} needs ${missing} too (mutual TLS takes a certificate and its key)`);
  }
  const files: TemporalTlsOptions = {
    ...(tlsCa === undefined ? {} : { serverCaFile: tlsCa }),
    ...(tlsCert === undefined ? {} : { clientCertFile: tlsCert }),
    ...(tlsKey === undefined ? {} : { clientKeyFile: tlsKey }),
    ...(tlsServerName === undefined ? {} : { serverNameOverride: tlsServerName }),
  };
  if (Object.keys(files).length > 0) {
    if (resolved.given('tls') && !tls) throw new TemporalTargetError(`${resolved.where('tls')} turns TLS off, but TLS files or a server name are given`);
    return files;
  }
  return tls ? true : undefined;
}

/**
 * The Temporal target of resolved settings (flags, a configuration file, the environment), with
 * the checks that involve several settings (a certificate with its key, TLS files with TLS off).
 * Throws TemporalTargetError naming the flag, variable or key at fault.
 */
export function temporalTargetFrom(resolved: Resolved<TemporalSettingsSet>): TemporalSettings {
  const { temporal, namespace, taskQueue, apiKeyFile } = resolved.values;
  if (resolved.values.apiKey !== undefined && apiKeyFile !== undefined) {
    throw new TemporalTargetError(`${resolved.where('apiKey')} and ${resolved.where('apiKeyFile')} both give the API key; give one`);
  }
  const apiKey = resolved.values.apiKey ?? apiKeyFile;
  const tls = tlsFrom(resolved);
  const target: TemporalTarget = {
    ...(temporal === undefined ? {} : { address: temporal }),
    ...(namespace === undefined ? {} : { namespace }),
    ...(tls === undefined ? {} : { tls }),
    ...(apiKey === undefined ? {} : { apiKey }),
  };
  return {
    target,
    ...(taskQueue === undefined ? {} : { taskQueue }),
    ...(temporal === undefined ? {} : { addressSource: resolved.where('temporal') }),
  };
}

/**
 * The Temporal settings from flag values (by setting name) and the environment: flags win.
 * Throws TemporalTargetError naming the flag or variable at fault.
 */
export function temporalSettingsFrom(values: GivenFlags, env: NodeJS.ProcessEnv = process.env): TemporalSettings {
  let resolved;
  try {
    resolved = resolveSettings(TEMPORAL_SETTINGS, { flags: values, env });
  } catch (error) {
    throw error instanceof SettingsError ? new TemporalTargetError(error.message) : error;
  }
  return temporalTargetFrom(resolved);
}
