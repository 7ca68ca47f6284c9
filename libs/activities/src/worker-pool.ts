import { lookup } from 'node:dns/promises';
import * as grpc from '@grpc/grpc-js';
import { loadProtocol, channelCredentials, tlsChannelOptions } from '@ippro/protocol';
import type { ClientTlsOptions } from '@ippro/protocol';
import { WORKER_SERVICE_NAME, WorkerClient } from '@ippro/compute';
import type { PoolFingerprintOutput } from '@ippro/workflow-core';

/**
 * Where the workers are: a list of `host:port`, or `dns:NAME:PORT` (every address NAME resolves
 * to, e.g. a Kubernetes headless service), re-resolved on every health refresh.
 */
export type WorkerPoolSpec = { kind: 'list'; addresses: string[] } | { kind: 'dns'; name: string; port: number };

/** A worker pool spec that cannot be used; the message names the part that is wrong. */
export class WorkerPoolSpecError extends Error {
  override readonly name = 'WorkerPoolSpecError';
}

function checkPort(text: string, whole: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port < 1 || port > 65535) throw new WorkerPoolSpecError(`worker pool '${whole}': '${text}' is not a port (1-65535)`);
  return port;
}

/** Parses `a:1,b:2` or `dns:NAME:PORT`. Throws WorkerPoolSpecError for an empty pool or a malformed address. */
export function parseWorkerPool(text: string): WorkerPoolSpec {
  const spec = text.trim();
  if (spec.startsWith('dns:')) {
    const rest = spec.slice(4);
    const colon = rest.lastIndexOf(':');
    if (colon <= 0) throw new WorkerPoolSpecError(`worker pool '${spec}': expected dns:NAME:PORT`);
    return { kind: 'dns', name: rest.slice(0, colon), port: checkPort(rest.slice(colon + 1), spec) };
  }
  const addresses = spec
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '');
  if (addresses.length === 0) throw new WorkerPoolSpecError('the worker pool is empty: give host:port[,host:port...] or dns:NAME:PORT');
  for (const address of addresses) {
    const colon = address.lastIndexOf(':');
    if (colon <= 0) throw new WorkerPoolSpecError(`worker pool: '${address}' is not host:port`);
    checkPort(address.slice(colon + 1), address);
  }
  return { kind: 'list', addresses: [...new Set(addresses)] };
}

/** The addresses a spec names now (DNS names are resolved to every address). */
export async function resolveWorkerPool(spec: WorkerPoolSpec): Promise<string[]> {
  if (spec.kind === 'list') return spec.addresses;
  const found = await lookup(spec.name, { all: true });
  return [...new Set(found.map((entry) => (entry.family === 6 ? `[${entry.address}]:${spec.port}` : `${entry.address}:${spec.port}`)))].sort();
}

export interface PooledWorker {
  readonly address: string;
  readonly client: WorkerClient;
  /** Health said SERVING (and capabilities answered) at the last check. */
  healthy: boolean;
  /** Calls it runs at once (GetCapabilities). */
  slots: number;
  /** Calls this executor has in flight on it. */
  inFlight: number;
  /** Its kernel fingerprint, backend, threads and tfjs-core version (GetCapabilities), once checked: the numeric path it computes on. */
  kernelFingerprint?: string;
  backend?: string;
  threads?: number;
  /** Absent for workers of older versions, which do not report it. */
  tfjs?: string;
  /** Why it was last marked unhealthy. */
  lastError?: string;
}

interface HealthClient extends grpc.Client {
  Check(request: { service: string }, options: grpc.CallOptions, callback: (error: grpc.ServiceError | null, response?: { status?: string }) => void): void;
}

export interface WorkerPoolOptions {
  tls?: ClientTlsOptions;
  /** Default 5000. */
  refreshMs?: number;
  /** Default 3000. */
  checkTimeoutMs?: number;
  /** A checked worker turned unhealthy, or healthy again (the pool shrank or grew). */
  onHealthChange?: (worker: PooledWorker, pool: WorkerPool) => void;
}

/** A check that timed out on a healthy worker with calls of this executor in flight: busy, not gone. */
function isBusyTimeout(worker: PooledWorker, error: unknown): boolean {
  return worker.healthy && worker.inFlight > 0 && (error as { code?: unknown }).code === grpc.status.DEADLINE_EXCEEDED;
}

/**
 * Worker state for the executor: health (grpc.health.v1 Check of ippro.v1.WorkerService), slots
 * (GetCapabilities), in-flight calls. Refreshed at most every `refreshMs`, and at once after a failure.
 */
export class WorkerPool {
  private readonly workers = new Map<string, PooledWorker>();
  private readonly health = new Map<string, HealthClient>();
  /** Workers whose health is known (checked once): only their changes are news. */
  private readonly known = new Set<string>();
  private lastRefresh = 0;
  private refreshing: Promise<void> | undefined;
  private waiters: (() => void)[] = [];

  constructor(
    readonly spec: WorkerPoolSpec,
    private readonly options: WorkerPoolOptions = {},
  ) {}

  /** Every known worker (for status output and tests). */
  list(): PooledWorker[] {
    return [...this.workers.values()];
  }

  /** Re-resolves the pool and checks every worker; concurrent callers share one refresh. */
  refresh(force = false): Promise<void> {
    if (!force && Date.now() - this.lastRefresh < (this.options.refreshMs ?? 5000)) return Promise.resolve();
    this.refreshing ??= this.doRefresh().finally(() => {
      this.refreshing = undefined;
      this.lastRefresh = Date.now();
      this.wake();
    });
    return this.refreshing;
  }

  private async doRefresh(): Promise<void> {
    let addresses: string[];
    try {
      addresses = await resolveWorkerPool(this.spec);
    } catch {
      addresses = [...this.workers.keys()];
    }
    for (const address of addresses) {
      if (!this.workers.has(address)) {
        this.workers.set(address, { address, client: this.clientFor(address), healthy: false, slots: 1, inFlight: 0 });
      }
    }
    // A worker that DNS no longer names is dropped once idle.
    for (const [address, worker] of this.workers) {
      if (!addresses.includes(address) && worker.inFlight === 0) {
        worker.client.close();
        this.health.get(address)?.close();
        this.health.delete(address);
        this.workers.delete(address);
        this.known.delete(address);
      }
    }
    await Promise.all([...this.workers.values()].map((worker) => this.check(worker)));
  }

  private async check(worker: PooledWorker): Promise<void> {
    const timeoutMs = this.options.checkTimeoutMs ?? 3000;
    try {
      const status = await this.healthCheck(worker.address, timeoutMs);
      if (status !== 'SERVING') throw new Error(`health ${status}`);
      const capabilities = await worker.client.getCapabilities(timeoutMs);
      worker.slots = Math.max(1, capabilities.slots);
      // A worker of an older version reports none: it takes no pinned run's calls.
      if (capabilities.kernelFingerprint === '') delete worker.kernelFingerprint;
      else worker.kernelFingerprint = capabilities.kernelFingerprint;
      worker.backend = capabilities.backend;
      worker.threads = capabilities.threads;
      if (capabilities.tfjsVersion === '') delete worker.tfjs;
      else worker.tfjs = capabilities.tfjsVersion;
      delete worker.lastError;
      this.setHealth(worker, true);
    } catch (error) {
      if (isBusyTimeout(worker, error)) {
        // A worker answers checks between the steps of its calls, so a long step (a large model, or
        // cores shared with other work) outlasts the check; its calls' own progress tells whether
        // it is alive (a silent call marks it unhealthy), and marking it unhealthy here would leave
        // the run's other activities waiting for a worker that is merely busy until they fail.
        worker.lastError = `health check unanswered within ${timeoutMs} ms while computing ${worker.inFlight} call(s)`;
        return;
      }
      this.markUnhealthy(worker, error);
    }
  }

  /**
   * A new process serves at `address` (a restarted worker): its old connections are dropped, so
   * the next check connects at once instead of waiting out the old channel's reconnect backoff.
   */
  replaced(address: string): void {
    const worker = this.workers.get(address);
    if (worker === undefined) return;
    worker.client.close();
    this.health.get(address)?.close();
    this.health.delete(address);
    // Calls still on the old process release their slots on the old entry. The new process's
    // fingerprint is unknown until its check: pinned runs do not send it calls before.
    this.workers.set(address, { address, client: this.clientFor(address), healthy: worker.healthy, slots: worker.slots, inFlight: 0 });
  }

  private clientFor(address: string): WorkerClient {
    return new WorkerClient(address, this.options.tls === undefined ? {} : { tls: this.options.tls });
  }

  markUnhealthy(worker: PooledWorker, error: unknown): void {
    worker.lastError = (error as { details?: string }).details ?? (error instanceof Error ? error.message : String(error));
    this.setHealth(worker, false);
  }

  private setHealth(worker: PooledWorker, healthy: boolean): void {
    const changed = worker.healthy !== healthy;
    worker.healthy = healthy;
    const news = changed && this.known.has(worker.address);
    this.known.add(worker.address);
    if (news) this.options.onHealthChange?.(worker, this);
  }

  private healthCheck(address: string, timeoutMs: number): Promise<string> {
    let client = this.health.get(address);
    if (client === undefined) {
      const Health = loadProtocol().grpc.health.v1.Health as unknown as new (address: string, credentials: grpc.ChannelCredentials, options: grpc.ChannelOptions) => HealthClient;
      client = new Health(address, channelCredentials(this.options.tls), tlsChannelOptions(this.options.tls));
      this.health.set(address, client);
    }
    const health = client;
    return new Promise((resolve, reject) => {
      health.Check({ service: WORKER_SERVICE_NAME }, { deadline: Date.now() + timeoutMs }, (error, response) => {
        if (error) reject(error);
        else resolve(response?.status ?? 'UNKNOWN');
      });
    });
  }

  /**
   * The healthy worker with the lowest load (in-flight calls over slots; then fewer in flight,
   * then address order) that has a free slot, preferring workers not in `avoid`; with
   * `fingerprint`, only workers whose kernel fingerprint it is. Undefined when every such
   * worker is busy or none is healthy.
   */
  pick(avoid: ReadonlySet<string>, fingerprint?: string): PooledWorker | undefined {
    const free = this.healthy(fingerprint).filter((worker) => worker.inFlight < worker.slots);
    const preferred = free.filter((worker) => !avoid.has(worker.address));
    const candidates = preferred.length > 0 ? preferred : free;
    candidates.sort((a, b) => a.inFlight / a.slots - b.inFlight / b.slots || a.inFlight - b.inFlight || a.address.localeCompare(b.address));
    return candidates[0];
  }

  /** Healthy workers; with `fingerprint`, only those computing on that numeric path. */
  private healthy(fingerprint?: string): PooledWorker[] {
    return [...this.workers.values()].filter((worker) => worker.healthy && (fingerprint === undefined || worker.kernelFingerprint === fingerprint));
  }

  healthyCount(fingerprint?: string): number {
    return this.healthy(fingerprint).length;
  }

  /**
   * The fingerprint a new run pins: the one with the most slots among the healthy workers (the
   * most capacity computes the run), ties to the smaller fingerprint. Undefined with no healthy
   * worker.
   */
  majorityFingerprint(): string | undefined {
    const slots = new Map<string, number>();
    for (const worker of this.healthy()) {
      if (worker.kernelFingerprint === undefined) continue;
      slots.set(worker.kernelFingerprint, (slots.get(worker.kernelFingerprint) ?? 0) + worker.slots);
    }
    return [...slots].sort(([a, x], [b, y]) => y - x || a.localeCompare(b))[0]?.[0];
  }

  /**
   * The numeric path of `fingerprint` as its healthy workers report it (the fingerprint covers
   * backend, threads and tfjs version, so they agree): the first in address order that names it
   * in full, else the fingerprint alone with what the first names.
   */
  numericPathOf(fingerprint: string): PoolFingerprintOutput {
    const workers = this.healthy(fingerprint).sort((a, b) => a.address.localeCompare(b.address));
    const worker = workers.find((candidate) => candidate.tfjs !== undefined) ?? workers[0];
    return {
      fingerprint,
      ...(worker?.backend === undefined ? {} : { backend: worker.backend }),
      ...(worker?.threads === undefined ? {} : { threads: worker.threads }),
      ...(worker?.tfjs === undefined ? {} : { tfjs: worker.tfjs }),
    };
  }

  /** Every worker and what it computes with, e.g. `10.0.0.5:7071 -> 1f0c... (wasm, 1 thread)`, or why it is out. */
  describeFingerprints(): string {
    return this.list()
      .map((worker) =>
        worker.healthy && worker.kernelFingerprint !== undefined
          ? `${worker.address} -> ${worker.kernelFingerprint} (${worker.backend ?? '?'}, ${worker.threads ?? '?'} thread${worker.threads === 1 ? '' : 's'})`
          : `${worker.address} -> unhealthy (${worker.lastError ?? 'unchecked'})`,
      )
      .join('; ');
  }

  /** Resolves when a slot may have freed (a call ended, a refresh finished) or after `ms`. */
  waitForChange(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        this.waiters = this.waiters.filter((waiter) => waiter !== done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal?.addEventListener('abort', done, { once: true });
      this.waiters.push(done);
    });
  }

  wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) waiter();
  }

  close(): void {
    for (const worker of this.workers.values()) worker.client.close();
    for (const client of this.health.values()) client.close();
    this.workers.clear();
    this.health.clear();
    this.known.clear();
    this.wake();
  }
}
