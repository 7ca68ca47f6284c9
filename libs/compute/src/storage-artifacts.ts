import type { CachedStorage } from '@ippro/artifacts';
import type { ArtifactAccess } from './artifact-access';

/**
 * A store shared with the orchestrator (a bucket: `ippro worker --store s3://...`), read through
 * the worker's local cache; results are written to the shared store, where the orchestrator
 * reads them by key.
 */
export class StorageArtifacts implements ArtifactAccess {
  constructor(private readonly storage: CachedStorage) {}

  get cacheBytes(): number {
    return this.storage.cacheBytes;
  }

  get description(): string {
    return this.storage.description;
  }

  get(key: string): Promise<Buffer> {
    return this.storage.get(key);
  }

  async put(bytes: Uint8Array): Promise<string> {
    return (await this.storage.put(bytes)).key;
  }

  close(): void {
    this.storage.close();
  }
}
