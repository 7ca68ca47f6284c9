import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ArtifactStore, CHUNK_BYTES, artifactKeyOf } from '@ippro/artifact-store';
import { ArtifactClient } from '../artifact-client';
import { startArtifactServer } from '../artifact-server';

export interface ThroughputOptions {
  /** Artifact size in bytes; default 100 MB (100,000,000 bytes). */
  bytes?: number;
  /** Chunk size of the client's Put and the server's Get; default 1 MiB. */
  chunkBytes?: number;
  /** Put/get round trips, each with fresh random bytes; default 1. */
  rounds?: number;
  /** Directory for the temporary store; default the OS temp directory. */
  dir?: string;
  /** fsync each stored artifact (the store's default); default true. */
  fsync?: boolean;
}

export interface ThroughputRound {
  putSeconds: number;
  getSeconds: number;
  /** Megabytes (10^6 bytes) per second. */
  putMBps: number;
  getMBps: number;
}

export interface ThroughputResult {
  bytes: number;
  chunkBytes: number;
  fsync: boolean;
  rounds: ThroughputRound[];
  /** The best round of each direction, MB/s. */
  putMBps: number;
  getMBps: number;
}

const seconds = (start: bigint): number => Number(process.hrtime.bigint() - start) / 1e9;

/**
 * Measures artifact transfer over loopback: a real server (store on disk, hashing, fsync) and
 * a real client. Put is client-streaming (the server hashes and writes); Get is server-streaming
 * (the server hashes while reading, the client verifies the whole artifact).
 */
export async function measureArtifactThroughput(options: ThroughputOptions = {}): Promise<ThroughputResult> {
  const bytes = options.bytes ?? 100_000_000;
  const chunkBytes = options.chunkBytes ?? CHUNK_BYTES;
  const fsync = options.fsync ?? true;
  const dir = await mkdtemp(join(options.dir ?? tmpdir(), 'ippro-artifact-bench-'));
  const store = await ArtifactStore.open({ root: dir, fsync });
  const server = await startArtifactServer({ store, chunkBytes });
  const client = new ArtifactClient(server.address, { chunkBytes });
  const rounds: ThroughputRound[] = [];
  try {
    for (let round = 0; round < (options.rounds ?? 1); round += 1) {
      const data = randomBytes(bytes);
      const key = artifactKeyOf(data);
      let start = process.hrtime.bigint();
      await client.putArtifact(data, { key, size: bytes });
      const putSeconds = seconds(start);
      start = process.hrtime.bigint();
      const back = await client.getArtifact(key);
      const getSeconds = seconds(start);
      if (back.length !== bytes) throw new Error(`throughput: got ${back.length} bytes back, sent ${bytes}`);
      rounds.push({ putSeconds, getSeconds, putMBps: bytes / 1e6 / putSeconds, getMBps: bytes / 1e6 / getSeconds });
      await store.delete(key);
    }
  } finally {
    client.close();
    await server.close(1000);
    await rm(dir, { recursive: true, force: true });
  }
  return {
    bytes,
    chunkBytes,
    fsync,
    rounds,
    putMBps: Math.max(...rounds.map((round) => round.putMBps)),
    getMBps: Math.max(...rounds.map((round) => round.getMBps)),
  };
}
