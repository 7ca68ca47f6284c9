import type { Command } from 'commander';
import { ArtifactClient, StoreSettingsError, describeStoreSettings, openArtifactStorage, parseStoreSettings } from '@ippro/artifacts';
import type { ArtifactStorage, StoreSettings } from '@ippro/artifacts';
import { UsageError } from './exit-codes';

/** The store flags of commands that upload a run's inputs and download its result. */
export interface StoreFlags {
  store?: string;
  s3Endpoint?: string;
  s3Region?: string;
  s3AccessKeyId?: string;
  s3SecretAccessKey?: string;
}

export function addStoreFlags(command: Command): Command {
  return command
    .option('--store <url>', 'the store shared by the orchestrator and the workers, s3://BUCKET[/PREFIX], used instead of its artifact service ($IPPRO_STORE)')
    .option('--s3-endpoint <url>', 'S3-compatible endpoint, e.g. http://seaweedfs:8333 ($IPPRO_S3_ENDPOINT, $AWS_ENDPOINT_URL_S3; default AWS S3)')
    .option('--s3-region <name>', 'S3 region ($AWS_REGION; default us-east-1)')
    .option('--s3-access-key-id <id>', 'S3 access key, with --s3-secret-access-key (default $AWS_ACCESS_KEY_ID and the AWS chain)')
    .option('--s3-secret-access-key <key>', 'its secret (default $AWS_SECRET_ACCESS_KEY)');
}

/** The store of the flags (else $IPPRO_STORE); undefined when none is named. UsageError for a bad one. */
export function storeFromFlags(flags: StoreFlags, env: NodeJS.ProcessEnv = process.env): StoreSettings | undefined {
  try {
    return parseStoreSettings(
      {
        store: flags.store,
        's3-endpoint': flags.s3Endpoint,
        's3-region': flags.s3Region,
        's3-access-key-id': flags.s3AccessKeyId,
        's3-secret-access-key': flags.s3SecretAccessKey,
      },
      env,
    );
  } catch (error) {
    throw error instanceof StoreSettingsError ? new UsageError(error.message) : error;
  }
}

/** Where a run's inputs go and its result comes from: the orchestrator's artifact service, or the shared store. */
export interface RunArtifacts {
  readonly description: string;
  put(bytes: Uint8Array): Promise<void>;
  get(key: string): Promise<Buffer>;
  close(): void;
}

/** Through the shared store (`--store`) when one is named, else the artifact service at `address`. */
export async function openRunArtifacts(store: StoreSettings | undefined, address: string | undefined): Promise<RunArtifacts> {
  if (store !== undefined) {
    let storage: ArtifactStorage;
    try {
      storage = await openArtifactStorage(store);
    } catch (error) {
      throw new UsageError(`--store ${describeStoreSettings(store)}: ${(error as Error).message}`);
    }
    return {
      description: storage.description,
      put: async (bytes) => {
        await storage.put(bytes);
      },
      get: (key) => storage.get(key),
      close: () => storage.close(),
    };
  }
  if (address === undefined) throw new UsageError("--artifacts <host:port> (the orchestrator's artifact service) or --store <url> is required with --temporal");
  const client = new ArtifactClient(address, { callTimeoutMs: 600_000 });
  return {
    description: `artifact service ${address}`,
    put: async (bytes) => {
      await client.putArtifact(bytes);
    },
    get: (key) => client.getArtifact(key),
    close: () => client.close(),
  };
}
