import { STORE_SETTINGS, describeStoreSettings, openArtifactStorage, storeSettingsOf } from '@ippro/artifact-store';
import type { ArtifactStorage, StoreSettings, StoreSettingsSet } from '@ippro/artifact-store';
import { ArtifactClient } from '@ippro/protocol';
import { combineSets, resolveSettings } from '@ippro/settings';
import type { Resolved } from '@ippro/settings';
import { asUsage } from './command-settings';
import { REMOTE_SETTINGS } from './remote';
import type { RemoteFlags } from './remote';
import { UsageError } from './exit-codes';

/** A stack to talk to and the store shared by its orchestrator and workers: what uploads a run's inputs and downloads its result. */
export const TARGET_SETTINGS = combineSets(REMOTE_SETTINGS, STORE_SETTINGS);
export type TargetSettingsSet = typeof TARGET_SETTINGS;

/** The target settings of a command's options (flags only) and the environment. */
export function targetSettings(flags: RemoteFlags, env: NodeJS.ProcessEnv = process.env): Resolved<TargetSettingsSet> {
  return asUsage(() => resolveSettings(TARGET_SETTINGS, { flags, env }));
}

/** The store the settings name (a flag, the file, else $IPPRO_STORE); undefined when none. UsageError for a bad one. */
export function storeFromSettings(resolved: Resolved<StoreSettingsSet>): StoreSettings | undefined {
  return asUsage(() => storeSettingsOf(resolved));
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
