import { status } from '@grpc/grpc-js';
import { ArtifactError, assertArtifactKey } from '@ippro/artifact-store';
import type { ArtifactStat, ArtifactStorage, PutDeclaration, PutOutcome } from '@ippro/artifact-store';
import type { ArtifactClient } from './artifact-client';

/**
 * The store behind an ArtifactService, reached through its client: what a worker reads its
 * inputs from and puts its results to (through a local cache: `CachedStorage(serviceStorage,
 * cache)`). Every read is verified against its key by the client, every put by the service.
 * The service offers no delete and keeps no record of corrupted copies.
 */
export class ServiceStorage implements ArtifactStorage {
  constructor(readonly client: ArtifactClient) {}

  get description(): string {
    return `artifact service ${this.client.address}`;
  }

  put(bytes: Uint8Array, declared?: PutDeclaration): Promise<PutOutcome> {
    return this.client.putArtifact(bytes, declared);
  }

  /** A stream without a declared key and size is gathered first: the service wants them before the data. */
  async putStream(source: Iterable<Uint8Array> | AsyncIterable<Uint8Array>, declared: PutDeclaration = {}): Promise<PutOutcome> {
    if (declared.key !== undefined && declared.size !== undefined) return this.client.putArtifact(source, declared);
    const pieces: Uint8Array[] = [];
    for await (const piece of source) pieces.push(piece);
    return this.client.putArtifact(Buffer.concat(pieces), declared);
  }

  get(key: string): Promise<Buffer> {
    return this.client.getArtifact(key);
  }

  /** The chunks as the service sends them (`chunkBytes` is the service's to choose). */
  read(key: string): AsyncIterable<Buffer> {
    return this.client.getArtifactChunks(key);
  }

  async stat(key: string): Promise<ArtifactStat | undefined> {
    return (await this.client.statArtifact(key)) ?? undefined;
  }

  async has(key: string): Promise<boolean> {
    return (await this.stat(key)) !== undefined;
  }

  delete(key: string): Promise<boolean> {
    return Promise.reject(new ArtifactError('internal', `cannot delete artifact ${key}: the artifact service offers no delete`, key, { code: status.UNIMPLEMENTED }));
  }

  async corruptedCopies(key: string): Promise<string[]> {
    assertArtifactKey(key);
    return [];
  }

  /** Unknown here: the service does not say. */
  usedBytes(): undefined {
    return undefined;
  }

  close(): void {
    this.client.close();
  }
}
