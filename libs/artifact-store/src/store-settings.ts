import { resolve } from 'node:path';
import { SettingsError, TEXT, commandLineFor, resolveSettings, setting, together } from '@ippro/settings';
import type { GivenFlags, Resolved } from '@ippro/settings';
import { ArtifactStore } from './artifact-store';
import type { ArtifactStorage } from './artifact-storage';
import type { S3ConnectionOptions } from './s3/client';
import { formatS3Url, parseS3Url } from './s3/location';
import type { S3Location } from './s3/location';
import { S3ArtifactStore } from './s3/s3-artifact-store';
import type { S3ArtifactStoreOptions } from './s3/s3-artifact-store';

/** Which artifact store a process uses: a directory, or a bucket of an S3-compatible service. */
export type StoreSettings = { kind: 'disk'; root: string } | ({ kind: 's3' } & S3Location & S3ConnectionOptions);

/** A store flag or variable that cannot be used; the message names it. */
export class StoreSettingsError extends SettingsError {
  override readonly name: string = 'StoreSettingsError';
}

/** The store settings: the same flags, variables and file keys in `ippro-worker`, `ippro-orchestrator` and the CLI. */
export const STORE_SETTINGS = {
  store: setting({ parse: TEXT, placeholder: 'URL', help: 'artifact store shared by the workers and the orchestrator: s3://BUCKET[/PREFIX] or a directory', env: 'IPPRO_STORE' }),
  s3Endpoint: setting({
    parse: TEXT,
    placeholder: 'URL',
    help: 'S3-compatible endpoint, e.g. http://seaweedfs:8333, path-style',
    defaultHelp: 'AWS S3',
    env: ['IPPRO_S3_ENDPOINT', 'AWS_ENDPOINT_URL_S3', 'AWS_ENDPOINT_URL'],
  }),
  s3Region: setting({ parse: TEXT, placeholder: 'NAME', help: 'S3 region', defaultHelp: 'us-east-1', env: ['AWS_REGION', 'AWS_DEFAULT_REGION'] }),
  s3AccessKeyId: setting({ parse: TEXT, placeholder: 'ID', help: 'S3 access key, with --s3-secret-access-key', defaultHelp: '$AWS_ACCESS_KEY_ID, profiles, web identity' }),
  s3SecretAccessKey: setting({
    parse: TEXT,
    placeholder: 'KEY',
    help: 'its secret',
    defaultHelp: '$AWS_SECRET_ACCESS_KEY, which unlike a flag does not show in ps',
    secret: true,
  }),
};

export type StoreSettingsSet = typeof STORE_SETTINGS;

function checkEndpoint(endpoint: string, where: string): string {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new StoreSettingsError(`${where} '${endpoint}' is not a URL (e.g. http://127.0.0.1:8333)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new StoreSettingsError(`${where} '${endpoint}' must be an http:// or https:// URL`);
  return endpoint.replace(/\/+$/, '');
}

/**
 * The store of resolved settings (a flag, a configuration file, else $IPPRO_STORE), with its S3
 * settings; undefined when none is named. The S3 variables apply only to an s3:// store; S3 flags
 * or keys without one are an error. Throws StoreSettingsError naming the flag, key or variable.
 */
export function storeSettingsOf(resolved: Resolved<StoreSettingsSet>): StoreSettings | undefined {
  const { store, s3Endpoint, s3Region, s3AccessKeyId, s3SecretAccessKey } = resolved.values;
  const s3Given = (['s3Endpoint', 's3Region', 's3AccessKeyId', 's3SecretAccessKey'] as const).filter((name) => ['flag', 'file'].includes(resolved.origin(name).kind));
  const first = s3Given[0];
  if (store === undefined) {
    if (first !== undefined) throw new StoreSettingsError(`${resolved.where(first)} needs --store s3://BUCKET[/PREFIX]`);
    return undefined;
  }
  if (!store.startsWith('s3://')) {
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(store)) throw new StoreSettingsError(`${resolved.where('store')} '${store}': only s3:// addresses and directories are stores`);
    if (first !== undefined) throw new StoreSettingsError(`${resolved.where(first)} needs an s3:// store, not the directory '${store}'`);
    return { kind: 'disk', root: resolve(store) };
  }
  let location: S3Location;
  try {
    location = parseS3Url(store);
  } catch (error) {
    throw new StoreSettingsError(`${resolved.where('store')}: ${(error as Error).message}`);
  }
  together(resolved, 's3AccessKeyId', 's3SecretAccessKey');
  return {
    kind: 's3',
    ...location,
    ...(s3Endpoint === undefined ? {} : { endpoint: checkEndpoint(s3Endpoint, resolved.where('s3Endpoint')) }),
    ...(s3Region === undefined ? {} : { region: s3Region }),
    ...(s3AccessKeyId === undefined || s3SecretAccessKey === undefined ? {} : { credentials: { accessKeyId: s3AccessKeyId, secretAccessKey: s3SecretAccessKey } }),
  };
}

/** The store of flag values (by setting name) and the environment; see storeSettingsOf. */
export function parseStoreSettings(values: GivenFlags, env: NodeJS.ProcessEnv = process.env): StoreSettings | undefined {
  try {
    return storeSettingsOf(resolveSettings(STORE_SETTINGS, { flags: values, env }));
  } catch (error) {
    throw error instanceof SettingsError ? new StoreSettingsError(error.message) : error;
  }
}

/** `s3://bucket/prefix` or the directory. */
export function describeStoreSettings(settings: StoreSettings): string {
  return settings.kind === 'disk' ? settings.root : formatS3Url(settings);
}

/**
 * The flags and variables that give a child process (a worker started by `ippro dev`) the same
 * store. Credentials travel in the environment, never on a command line.
 */
export function storeSettingsForChild(settings: StoreSettings): { args: string[]; env: Record<string, string> } {
  if (settings.kind === 'disk') return { args: commandLineFor(STORE_SETTINGS, { store: settings.root }), env: {} };
  const args = commandLineFor(STORE_SETTINGS, {
    store: formatS3Url(settings),
    ...(settings.endpoint === undefined ? {} : { s3Endpoint: settings.endpoint }),
    ...(settings.region === undefined ? {} : { s3Region: settings.region }),
  });
  const env: Record<string, string> = {};
  if (settings.credentials !== undefined) {
    env['AWS_ACCESS_KEY_ID'] = settings.credentials.accessKeyId;
    env['AWS_SECRET_ACCESS_KEY'] = settings.credentials.secretAccessKey;
    if (settings.credentials.sessionToken !== undefined) env['AWS_SESSION_TOKEN'] = settings.credentials.sessionToken;
  }
  return { args, env };
}

export interface OpenStorageOptions {
  /** S3 only: multipart part size, concurrency, retries, and a hook told about each retry. */
  s3?: Partial<Omit<S3ArtifactStoreOptions, keyof S3Location | keyof S3ConnectionOptions>>;
}

/** Opens the store: the directory (created if missing), or the bucket (checked with HeadBucket). */
export async function openArtifactStorage(settings: StoreSettings, options: OpenStorageOptions = {}): Promise<ArtifactStorage> {
  if (settings.kind === 'disk') return ArtifactStore.open({ root: settings.root });
  const { bucket, prefix, endpoint, region, credentials } = settings;
  return S3ArtifactStore.open({
    ...options.s3,
    bucket,
    prefix,
    ...(endpoint === undefined ? {} : { endpoint }),
    ...(region === undefined ? {} : { region }),
    ...(credentials === undefined ? {} : { credentials }),
  });
}
