import { resolve } from 'node:path';
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
export class StoreSettingsError extends Error {
  override readonly name = 'StoreSettingsError';
}

/** The store flags, as node:util parseArgs options; the same names in `ippro worker`, `ippro-orchestrator` and the CLI. */
export const STORE_FLAG_OPTIONS = {
  store: { type: 'string' },
  's3-endpoint': { type: 'string' },
  's3-region': { type: 'string' },
  's3-access-key-id': { type: 'string' },
  's3-secret-access-key': { type: 'string' },
} as const;

export interface StoreFlagValues {
  store?: string | undefined;
  's3-endpoint'?: string | undefined;
  's3-region'?: string | undefined;
  's3-access-key-id'?: string | undefined;
  's3-secret-access-key'?: string | undefined;
}

/** The store flags with their help, for each command's usage text. */
export const STORE_FLAG_HELP: readonly (readonly [string, string])[] = [
  ['--store URL', 'artifact store shared by the workers and the orchestrator: s3://BUCKET[/PREFIX] or a directory ($IPPRO_STORE)'],
  ['--s3-endpoint URL', 'S3-compatible endpoint, e.g. http://seaweedfs:8333, path-style ($IPPRO_S3_ENDPOINT, $AWS_ENDPOINT_URL_S3; default AWS S3)'],
  ['--s3-region NAME', 'S3 region ($AWS_REGION, $AWS_DEFAULT_REGION; default us-east-1)'],
  ['--s3-access-key-id ID', 'S3 access key, with --s3-secret-access-key (default $AWS_ACCESS_KEY_ID, profiles, web identity)'],
  ['--s3-secret-access-key KEY', 'its secret (default $AWS_SECRET_ACCESS_KEY, which unlike a flag does not show in ps)'],
];

/** The store flags' usage lines, flags padded to `column` characters after an indent of two. */
export function storeFlagsUsage(column: number): string {
  return STORE_FLAG_HELP.map(([flag, help]) => `  ${flag.padEnd(column)} ${help}\n`).join('');
}

function checkEndpoint(endpoint: string, flag: string): string {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new StoreSettingsError(`${flag} '${endpoint}' is not a URL (e.g. http://127.0.0.1:8333)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new StoreSettingsError(`${flag} '${endpoint}' must be an http:// or https:// URL`);
  return endpoint.replace(/\/+$/, '');
}

/**
 * The store of `--store` (else $IPPRO_STORE) with its S3 settings from flags, else the
 * environment; undefined when neither names a store. Throws StoreSettingsError naming the bad
 * flag (an S3 flag without an s3:// store, a key id without its secret, a bad URL).
 */
export function parseStoreSettings(values: StoreFlagValues, env: NodeJS.ProcessEnv = process.env): StoreSettings | undefined {
  const store = values.store ?? env['IPPRO_STORE'];
  const s3Flags = (['s3-endpoint', 's3-region', 's3-access-key-id', 's3-secret-access-key'] as const).filter((flag) => values[flag] !== undefined);
  if (store === undefined || store === '') {
    if (s3Flags.length > 0) throw new StoreSettingsError(`--${s3Flags[0]} needs --store s3://BUCKET[/PREFIX]`);
    return undefined;
  }
  if (!store.startsWith('s3://')) {
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(store)) throw new StoreSettingsError(`--store '${store}': only s3:// addresses and directories are stores`);
    if (s3Flags.length > 0) throw new StoreSettingsError(`--${s3Flags[0]} needs an s3:// store, not the directory '${store}'`);
    return { kind: 'disk', root: resolve(store) };
  }
  let location: S3Location;
  try {
    location = parseS3Url(store);
  } catch (error) {
    throw new StoreSettingsError(`--store: ${(error as Error).message}`);
  }
  const accessKeyId = values['s3-access-key-id'];
  const secretAccessKey = values['s3-secret-access-key'];
  if ((accessKeyId === undefined) !== (secretAccessKey === undefined)) throw new StoreSettingsError('--s3-access-key-id and --s3-secret-access-key go together');
  const endpointFlag = values['s3-endpoint'] !== undefined ? '--s3-endpoint' : '$IPPRO_S3_ENDPOINT';
  const endpoint = values['s3-endpoint'] ?? env['IPPRO_S3_ENDPOINT'] ?? env['AWS_ENDPOINT_URL_S3'] ?? env['AWS_ENDPOINT_URL'];
  const region = values['s3-region'] ?? env['AWS_REGION'] ?? env['AWS_DEFAULT_REGION'];
  return {
    kind: 's3',
    ...location,
    ...(endpoint === undefined || endpoint === '' ? {} : { endpoint: checkEndpoint(endpoint, endpointFlag) }),
    ...(region === undefined || region === '' ? {} : { region }),
    ...(accessKeyId === undefined || secretAccessKey === undefined ? {} : { credentials: { accessKeyId, secretAccessKey } }),
  };
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
  if (settings.kind === 'disk') return { args: ['--store', settings.root], env: {} };
  const args = ['--store', formatS3Url(settings)];
  if (settings.endpoint !== undefined) args.push('--s3-endpoint', settings.endpoint);
  if (settings.region !== undefined) args.push('--s3-region', settings.region);
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
