import { artifactKeyOf, isArtifactError } from '@ippro/artifacts';
import type { ArtifactClient, ArtifactStore } from '@ippro/artifacts';

/** Where a worker reads its inputs (models, datasets) and writes its results, by sha256. */
export interface ArtifactAccess {
  /** The verified bytes of an artifact; ArtifactError NOT_FOUND / DATA_LOSS otherwise. */
  get(key: string): Promise<Buffer>;
  /** Stores bytes and returns their key (sha256). */
  put(bytes: Uint8Array): Promise<string>;
  /** Size bound of the local cache in bytes (0 when there is none). */
  readonly cacheBytes: number;
  /** Where results go, for logs. */
  readonly description: string;
  close(): void;
}

/**
 * A remote ArtifactService with a local LRU cache: inputs are fetched once by content hash and
 * kept in `cache` (an ArtifactStore with maxBytes); concurrent fetches of one key share one
 * transfer. Results are put to the service (and not cached: the worker rarely reads them).
 */
export class RemoteArtifacts implements ArtifactAccess {
  private readonly inflight = new Map<string, Promise<Buffer>>();

  constructor(
    private readonly client: ArtifactClient,
    private readonly cache: ArtifactStore,
    private readonly ownsClient = true,
  ) {}

  get cacheBytes(): number {
    return this.cache.maxBytes ?? 0;
  }

  get description(): string {
    return `artifact service ${this.client.address}`;
  }

  get(key: string): Promise<Buffer> {
    const running = this.inflight.get(key);
    if (running !== undefined) return running;
    const fetching = this.fetch(key).finally(() => this.inflight.delete(key));
    this.inflight.set(key, fetching);
    return fetching;
  }

  private async fetch(key: string): Promise<Buffer> {
    try {
      return await this.cache.get(key);
    } catch (error) {
      // Not cached (or a corrupted cache entry, which the store has moved aside): fetch it.
      if (!isArtifactError(error, 'not-found') && !isArtifactError(error, 'data-loss')) throw error;
    }
    const bytes = await this.client.getArtifact(key);
    try {
      await this.cache.put(bytes, { key });
    } catch (error) {
      // An artifact larger than the whole cache is used without being cached.
      if (!isArtifactError(error, 'too-large')) throw error;
    }
    return bytes;
  }

  async put(bytes: Uint8Array): Promise<string> {
    const { key } = await this.client.putArtifact(bytes);
    return key;
  }

  close(): void {
    if (this.ownsClient) this.client.close();
  }
}

/** A store on a shared file system (or the worker's own store): read and written directly. */
export class LocalArtifacts implements ArtifactAccess {
  constructor(private readonly store: ArtifactStore) {}

  get cacheBytes(): number {
    return this.store.maxBytes ?? 0;
  }

  get description(): string {
    return `artifact store ${this.store.root}`;
  }

  get(key: string): Promise<Buffer> {
    return this.store.get(key);
  }

  async put(bytes: Uint8Array): Promise<string> {
    const key = artifactKeyOf(bytes);
    await this.store.put(bytes, { key });
    return key;
  }

  close(): void {
    // The store is the caller's; nothing to release.
  }
}
