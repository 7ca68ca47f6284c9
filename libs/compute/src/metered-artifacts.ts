import { workerMetrics } from '@ippro/telemetry';
import type { ArtifactAccess } from './artifact-access';

/** Counts the artifact bytes a worker reads and writes (`ippro_worker_artifact_bytes_total`). */
export class MeteredArtifacts implements ArtifactAccess {
  constructor(private readonly inner: ArtifactAccess) {}

  get cacheBytes(): number {
    return this.inner.cacheBytes;
  }

  get description(): string {
    return this.inner.description;
  }

  async get(key: string): Promise<Buffer> {
    const bytes = await this.inner.get(key);
    workerMetrics.artifactBytes.inc({ direction: 'get' }, bytes.length);
    return bytes;
  }

  async put(bytes: Uint8Array): Promise<string> {
    const key = await this.inner.put(bytes);
    workerMetrics.artifactBytes.inc({ direction: 'put' }, bytes.length);
    return key;
  }

  close(): void {
    this.inner.close();
  }
}
