import * as grpc from '@grpc/grpc-js';
import { ReflectionService } from '@grpc/reflection';
import { ArtifactError, assertArtifactKey, CHUNK_BYTES, describeValue } from '@ippro/artifact-store';
import { POSITIVE_INTEGER, setting } from '@ippro/settings';
import type { ArtifactStorage } from '@ippro/artifact-store';
import { artifactKeyMetadata } from './artifact-status';
import type { ArtifactServiceHandlers } from './generated/ippro/v1/ArtifactService';
import type { PutChunk__Output } from './generated/ippro/v1/PutChunk';
import { HealthService } from './health-service';
import { DEFAULT_MAX_ARTIFACT_BYTES, MAX_MESSAGE_BYTES } from './limits';
import { loadPackageDefinition, loadProtocol } from './proto-loading';
import { serverCredentials } from './tls';
import type { ServerTlsOptions } from './tls';
import { checkServerTransport } from './transport-security';

/** The fully qualified name health checks and reflection use for the artifact service. */
export const ARTIFACT_SERVICE_NAME = 'ippro.v1.ArtifactService';

/** `--max-artifact-bytes`, `--max-store-bytes`: of every process that serves the ArtifactService. */
export const ARTIFACT_SERVICE_SETTINGS = {
  maxArtifactBytes: setting({
    parse: POSITIVE_INTEGER,
    placeholder: 'BYTES',
    help: 'largest artifact one Put to the artifact service may declare and send (RESOURCE_EXHAUSTED above it)',
    default: String(DEFAULT_MAX_ARTIFACT_BYTES),
  }),
  maxStoreBytes: setting({
    parse: POSITIVE_INTEGER,
    placeholder: 'BYTES',
    help: 'quota of the store the artifact service serves: a Put that would take it past this is refused on its header (RESOURCE_EXHAUSTED), nothing stored; needs a store on disk, which counts its bytes',
    defaultHelp: 'no quota',
  }),
};

export interface ArtifactServiceOptions {
  /**
   * Largest artifact a Put may declare and send; above it RESOURCE_EXHAUSTED, on the header
   * before any byte is stored. Default DEFAULT_MAX_ARTIFACT_BYTES (4 GiB).
   */
  maxArtifactBytes?: number;
  /**
   * Quota of the store: a Put of a new artifact that would take the store's bytes (usedBytes,
   * plus Puts accepted and still arriving) past it is refused with RESOURCE_EXHAUSTED on its
   * header, before any byte is stored. Needs a storage that counts its bytes. Default none.
   */
  maxStoreBytes?: number;
  /** Size of the chunks Get streams. Default 1 MiB. */
  chunkBytes?: number;
}

export interface ArtifactServerOptions extends ArtifactServiceOptions {
  store: ArtifactStorage;
  /** host:port to bind; default 127.0.0.1:0 (a free port on loopback). */
  address?: string;
  /** TLS; with `clientCaFile`, mutual TLS. Default insecure. */
  tls?: ServerTlsOptions;
  /** Maximum message size in both directions. Default MAX_MESSAGE_BYTES (4 MiB + 64 KiB). */
  maxMessageBytes?: number;
  /** Beyond loopback: serve without mutual TLS anyway, with a warning (`--insecure`). */
  insecure?: boolean;
  /** The flags that give the server its certificates, named when they are missing. */
  tlsFlags?: string;
  /** Where the --insecure warning goes; default stderr. */
  log?: (line: string) => void;
}

export interface ArtifactServer {
  readonly server: grpc.Server;
  readonly health: HealthService;
  /** The bound port (useful with port 0). */
  readonly port: number;
  /** host:port a client can dial. */
  readonly address: string;
  /** Stops accepting calls, lets running ones finish for up to `graceMs`, then cancels them. */
  close(graceMs?: number): Promise<void>;
}

/** A gRPC status error for a handler callback or stream. */
export function toServiceError(error: unknown): Partial<grpc.StatusObject> {
  if (error instanceof ArtifactError) {
    const metadata = artifactKeyMetadata(error.key);
    return { code: error.code, details: error.message, ...(metadata === undefined ? {} : { metadata }) };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { code: grpc.status.INTERNAL, details: `artifact service: ${message}` };
}

/** Server options: explicit message limits in both directions. */
export function serverOptions(maxMessageBytes = MAX_MESSAGE_BYTES): grpc.ServerOptions {
  return {
    'grpc.max_receive_message_length': maxMessageBytes,
    'grpc.max_send_message_length': maxMessageBytes,
  };
}

/** Resolves when a stream can take more writes, or its call was cancelled. */
function drainOrCancel(call: NodeJS.EventEmitter): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      call.off('drain', done);
      call.off('cancelled', done);
      call.off('close', done);
      resolve();
    };
    call.on('drain', done);
    call.on('cancelled', done);
    call.on('close', done);
  });
}

/**
 * The data of a Put stream after its header, checking that every message is a data chunk and
 * that no more bytes arrive than the header declared (whatever the storage behind checks).
 */
async function* putData(messages: AsyncIterator<PutChunk__Output>, key: string, declared: number): AsyncGenerator<Uint8Array> {
  let received = 0;
  for (;;) {
    const next = await messages.next();
    if (next.done === true) return;
    const message = next.value;
    if (message.part !== 'data' || message.data === undefined) {
      throw new ArtifactError('invalid-argument', `Put of artifact ${key}: only the first message may be a header; later messages carry data`, key);
    }
    received += message.data.length;
    if (received > declared) throw new ArtifactError('data-loss', `Put of artifact ${key} sent more than the ${declared} bytes its header declared; nothing stored`, key);
    yield message.data;
  }
}

/**
 * The store's quota: the bytes it holds plus those of Puts accepted and still arriving (so that
 * concurrent Puts that each fit cannot overrun it together) must stay within `maxBytes`.
 */
class StoreQuota {
  private reserved = 0;

  constructor(
    private readonly store: ArtifactStorage,
    private readonly maxBytes: number,
  ) {
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 1) throw new Error(`the store quota must be a positive byte count, got ${describeValue(maxBytes)}`);
    if (store.usedBytes() === undefined) {
      throw new Error(`--max-store-bytes needs a store that counts its bytes (a store on disk); ${store.description} does not`);
    }
  }

  /** Takes `size` bytes of the quota for a Put of `key` (none when the store has it); the result gives them back. Throws RESOURCE_EXHAUSTED when they do not fit. */
  async reserve(key: string, size: number): Promise<() => void> {
    // A Put of an artifact the store holds adds nothing.
    if ((await this.store.stat(key)) !== undefined) return () => undefined;
    const used = (this.store.usedBytes() ?? 0) + this.reserved;
    if (used + size > this.maxBytes) {
      throw new ArtifactError(
        'too-large',
        `artifact ${key} of ${size} bytes would take the store past its quota of ${this.maxBytes} bytes: it holds ${used} bytes now` +
          `${this.reserved > 0 ? ` (with Puts still arriving)` : ''}; nothing stored (--max-store-bytes raises the quota)`,
        key,
      );
    }
    this.reserved += size;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.reserved -= size;
    };
  }
}

/** The ArtifactService implementation over a store. */
export function artifactServiceHandlers(store: ArtifactStorage, options: ArtifactServiceOptions = {}): ArtifactServiceHandlers {
  const chunkBytes = options.chunkBytes ?? CHUNK_BYTES;
  const maxArtifactBytes = options.maxArtifactBytes ?? DEFAULT_MAX_ARTIFACT_BYTES;
  const quota = options.maxStoreBytes === undefined ? undefined : new StoreQuota(store, options.maxStoreBytes);
  return {
    Put: (call, callback) => {
      const run = async (): Promise<void> => {
        const messages = (call as AsyncIterable<PutChunk__Output>)[Symbol.asyncIterator]();
        const first = await messages.next();
        if (first.done === true || first.value.part !== 'header' || first.value.header == null) {
          throw new ArtifactError('invalid-argument', 'Put: the first message must be a header with the key and size');
        }
        const { key, size } = first.value.header;
        assertArtifactKey(key, 'Put header key');
        if (!Number.isSafeInteger(size) || size < 0) {
          throw new ArtifactError('invalid-argument', `Put header size ${describeValue(size)} of artifact ${key} is not a byte count`, key);
        }
        if (size > maxArtifactBytes) {
          throw new ArtifactError('too-large', `artifact ${key} of ${size} bytes exceeds the server's limit of ${maxArtifactBytes} bytes per Put (--max-artifact-bytes raises it)`, key);
        }
        const release = await quota?.reserve(key, size);
        try {
          const outcome = await store.putStream(putData(messages, key, size), { key, size });
          callback(null, { key: outcome.key, size: outcome.size, alreadyExisted: outcome.alreadyExisted });
        } finally {
          release?.();
        }
      };
      // On an error the status ends the call; what the client still sends is discarded.
      run().catch((error: unknown) => callback(toServiceError(error)));
    },

    Get: (call) => {
      const run = async (): Promise<void> => {
        const { key } = call.request;
        assertArtifactKey(key);
        const found = await store.stat(key);
        if (found === undefined) throw new ArtifactError('not-found', `artifact ${key} not found`, key);
        let cancelled = call.cancelled;
        const onCancel = (): void => {
          cancelled = true;
        };
        call.on('cancelled', onCancel);
        try {
          let offset = 0;
          for await (const data of store.read(key, chunkBytes)) {
            if (cancelled) return;
            const writable = call.write({ data, offset, totalSize: found.size });
            offset += data.length;
            if (!writable) await drainOrCancel(call);
          }
        } finally {
          call.off('cancelled', onCancel);
        }
        if (!cancelled) call.end();
      };
      run().catch((error: unknown) => {
        if (!call.cancelled) call.emit('error', toServiceError(error));
      });
    },

    Stat: (call, callback) => {
      const run = async (): Promise<void> => {
        const { key } = call.request;
        assertArtifactKey(key);
        const found = await store.stat(key);
        if (found === undefined) throw new ArtifactError('not-found', `artifact ${key} not found`, key);
        callback(null, found);
      };
      run().catch((error: unknown) => callback(toServiceError(error)));
    },
  };
}

/** Adds the ArtifactService to a server (e.g. a worker's own server). */
export function addArtifactService(server: grpc.Server, store: ArtifactStorage, options: ArtifactServiceOptions = {}): void {
  server.addService(loadProtocol().ippro.v1.ArtifactService.service, artifactServiceHandlers(store, options));
}

/** The fully qualified name of the standard health service. */
export const HEALTH_SERVICE_NAME = 'grpc.health.v1.Health';

/**
 * Adds grpc.health.v1.Health and server reflection (v1 and v1alpha) describing `services` (the
 * fully qualified names the server really serves; the health service is added to them), so
 * `grpcurl -plaintext HOST:PORT list` and `describe` work.
 */
export function addStandardServices(server: grpc.Server, health: HealthService, services: readonly string[]): void {
  health.addToServer(server);
  const definition = loadPackageDefinition() as ConstructorParameters<typeof ReflectionService>[0];
  new ReflectionService(definition, { services: [...services, HEALTH_SERVICE_NAME] }).addToServer(server);
}

function bind(server: grpc.Server, address: string, credentials: grpc.ServerCredentials): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync(address, credentials, (error, port) => (error ? reject(error) : resolve(port)));
  });
}

/** Starts a gRPC server with the ArtifactService, health and reflection. */
export async function startArtifactServer(options: ArtifactServerOptions): Promise<ArtifactServer> {
  const requested = options.address ?? '127.0.0.1:0';
  checkServerTransport(requested, options.tls, {
    what: 'the artifact service',
    flags: options.tlsFlags ?? 'a certificate, its key and the client CA',
    insecure: options.insecure === true,
    warn: options.log ?? ((line) => process.stderr.write(`${line}\n`)),
  });
  const server = new grpc.Server(serverOptions(options.maxMessageBytes));
  const health = new HealthService({ '': 'SERVING', [ARTIFACT_SERVICE_NAME]: 'SERVING' });
  addArtifactService(server, options.store, options);
  addStandardServices(server, health, [ARTIFACT_SERVICE_NAME]);
  let port: number;
  try {
    port = await bind(server, requested, serverCredentials(options.tls));
  } catch (error) {
    server.forceShutdown();
    throw new Error(`artifact server: cannot listen on ${requested}: ${(error as Error).message}`, { cause: error });
  }
  const host = requested.slice(0, requested.lastIndexOf(':'));
  return {
    server,
    health,
    port,
    address: `${host}:${port}`,
    close: (graceMs = 5000) =>
      new Promise<void>((resolve) => {
        health.setAllNotServing();
        health.endWatches();
        const timer = setTimeout(() => server.forceShutdown(), graceMs);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      }),
  };
}
