import type { ArtifactStat, ArtifactStorage, PutDeclaration, PutOutcome } from '@ippro/artifact-store';
import type { Counter } from 'prom-client';

/**
 * An ArtifactStorage that counts the bytes read and written through it in a counter with a
 * `direction` label (get, put), e.g. `ippro_orchestrator_artifact_bytes_total`.
 */
export class MeteredStorage implements ArtifactStorage {
  constructor(
    readonly inner: ArtifactStorage,
    private readonly bytes: Counter<'direction'>,
  ) {}

  get description(): string {
    return this.inner.description;
  }

  async put(data: Uint8Array, declared?: PutDeclaration): Promise<PutOutcome> {
    const outcome = await this.inner.put(data, declared);
    this.bytes.inc({ direction: 'put' }, outcome.size);
    return outcome;
  }

  async putStream(source: Iterable<Uint8Array> | AsyncIterable<Uint8Array>, declared?: PutDeclaration): Promise<PutOutcome> {
    const outcome = await this.inner.putStream(source, declared);
    this.bytes.inc({ direction: 'put' }, outcome.size);
    return outcome;
  }

  async get(key: string): Promise<Buffer> {
    const data = await this.inner.get(key);
    this.bytes.inc({ direction: 'get' }, data.length);
    return data;
  }

  async *read(key: string, chunkBytes?: number): AsyncGenerator<Buffer> {
    for await (const chunk of this.inner.read(key, chunkBytes)) {
      this.bytes.inc({ direction: 'get' }, chunk.length);
      yield chunk;
    }
  }

  stat(key: string): Promise<ArtifactStat | undefined> {
    return this.inner.stat(key);
  }

  has(key: string): Promise<boolean> {
    return this.inner.has(key);
  }

  delete(key: string): Promise<boolean> {
    return this.inner.delete(key);
  }

  corruptedCopies(key: string): Promise<string[]> {
    return this.inner.corruptedCopies(key);
  }

  usedBytes(): number | undefined {
    return this.inner.usedBytes();
  }

  close(): void {
    this.inner.close();
  }
}
