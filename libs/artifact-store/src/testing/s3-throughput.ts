import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { artifactKeyOf } from '../artifact-key';
import { ensureWeed } from './seaweedfs/find-weed';
import { startSeaweedFs } from './seaweedfs/seaweedfs-server';
import { S3ArtifactStore } from '../s3/s3-artifact-store';

export interface S3ThroughputOptions {
  /** Artifact size in bytes; default 100 MB (100,000,000 bytes). */
  bytes?: number;
  /** Put/get round trips, each with fresh random bytes; default 1. */
  rounds?: number;
  /** Multipart part size; default the store's (8 MiB). */
  partBytes?: number;
  /** Parts in flight; default the store's (4). */
  concurrency?: number;
}

export interface S3ThroughputRound {
  putSeconds: number;
  getSeconds: number;
  /** Megabytes (10^6 bytes) per second. */
  putMBps: number;
  getMBps: number;
}

export type S3ThroughputResult =
  | {
      ran: true;
      server: string;
      bytes: number;
      /** The machine's 1-minute load average as the rounds began: the server and the client share its cores. */
      loadAverage: number;
      rounds: S3ThroughputRound[];
      putMBps: number;
      getMBps: number;
    }
  | { ran: false; reason: string };

const seconds = (start: bigint): number => Number(process.hrtime.bigint() - start) / 1e9;

/**
 * Measures the S3 store against a SeaweedFS started on loopback for the purpose: a put
 * (hashing, multipart upload) and a verified get of a `bytes` artifact, best of `rounds`. Does
 * not run (with the reason) when no weed binary can be found or installed.
 */
export async function measureS3Throughput(options: S3ThroughputOptions = {}): Promise<S3ThroughputResult> {
  const weed = ensureWeed();
  if (!weed.found) return { ran: false, reason: weed.reason };
  const bytes = options.bytes ?? 100_000_000;
  const server = await startSeaweedFs({ weedPath: weed.weed.path, buckets: ['ippro-bench'] });
  const store = await S3ArtifactStore.open({
    bucket: 'ippro-bench',
    prefix: 'throughput',
    endpoint: server.endpoint,
    credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
    ...(options.partBytes === undefined ? {} : { partBytes: options.partBytes }),
    ...(options.concurrency === undefined ? {} : { concurrency: options.concurrency }),
  });
  const rounds: S3ThroughputRound[] = [];
  const loadAverage = loadavg()[0] ?? 0;
  try {
    for (let round = 0; round < (options.rounds ?? 1); round += 1) {
      const data = randomBytes(bytes);
      const key = artifactKeyOf(data);
      let start = process.hrtime.bigint();
      await store.put(data, { key, size: bytes });
      const putSeconds = seconds(start);
      start = process.hrtime.bigint();
      const back = await store.get(key);
      const getSeconds = seconds(start);
      if (back.length !== bytes) throw new Error(`S3 throughput: got ${back.length} bytes back, put ${bytes}`);
      rounds.push({ putSeconds, getSeconds, putMBps: bytes / 1e6 / putSeconds, getMBps: bytes / 1e6 / getSeconds });
      await store.delete(key);
    }
  } finally {
    store.close();
    await server.stop();
  }
  return {
    ran: true,
    server: weed.weed.version,
    bytes,
    loadAverage,
    rounds,
    putMBps: Math.max(...rounds.map((round) => round.putMBps)),
    getMBps: Math.max(...rounds.map((round) => round.getMBps)),
  };
}
