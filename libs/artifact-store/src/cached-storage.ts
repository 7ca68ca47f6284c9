import { isArtifactError } from './artifact-error';
import type { ArtifactStat, ArtifactStore, PutDeclaration, PutOutcome } from './artifact-store';
import type { ArtifactStorage } from './artifact-storage';

/**
 * A shared store (a bucket) read through a local LRU cache (an ArtifactStore with maxBytes), as
 * a worker reads its inputs: each artifact is fetched once by content hash, concurrent fetches
 * of one key share one transfer, and a corrupted cache entry (moved aside by the cache) is
 * fetched again. Puts go to the shared store only: the worker rarely reads its results.
 */
export class CachedStorage implements ArtifactStorage {
  private readonly inflight = new Map<string, Promise<Buffer>>();

  constructor(
    readonly remote: ArtifactStorage,
    readonly cache: ArtifactStore,
  ) {}

  get description(): string {
    return `${this.remote.description} (cached in ${this.cache.root})`;
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
      if (!isArtifactError(error, 'not-found') && !isArtifactError(error, 'data-loss')) throw error;
    }
    const bytes = await this.remote.get(key);
    try {
      await this.cache.put(bytes, { key });
    } catch (error) {
      // An artifact larger than the whole cache is used without being cached.
      if (!isArtifactError(error, 'too-large')) throw error;
    }
    return bytes;
  }

  put(bytes: Uint8Array, declared?: PutDeclaration): Promise<PutOutcome> {
    return this.remote.put(bytes, declared);
  }

  putStream(source: Iterable<Uint8Array> | AsyncIterable<Uint8Array>, declared?: PutDeclaration): Promise<PutOutcome> {
    return this.remote.putStream(source, declared);
  }

  read(key: string, chunkBytes?: number): AsyncIterable<Buffer> {
    return this.remote.read(key, chunkBytes);
  }

  stat(key: string): Promise<ArtifactStat | undefined> {
    return this.remote.stat(key);
  }

  has(key: string): Promise<boolean> {
    return this.remote.has(key);
  }

  /** Removes the artifact from both. */
  async delete(key: string): Promise<boolean> {
    await this.cache.delete(key);
    return this.remote.delete(key);
  }

  corruptedCopies(key: string): Promise<string[]> {
    return this.remote.corruptedCopies(key);
  }

  /** The shared store's: the cache holds copies. */
  usedBytes(): number | undefined {
    return this.remote.usedBytes();
  }

  close(): void {
    this.remote.close();
  }
}
