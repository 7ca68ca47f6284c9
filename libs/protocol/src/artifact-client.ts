import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import * as grpc from '@grpc/grpc-js';
import { ArtifactError, artifactKeyOf, assertArtifactKey, CHUNK_BYTES, describeValue } from '@ippro/artifact-store';
import type { ArtifactStat, PutDeclaration, PutOutcome } from '@ippro/artifact-store';
import { kindOfStatus } from './artifact-status';
import type { ArtifactServiceClient } from './generated/ippro/v1/ArtifactService';
import type { Chunk__Output } from './generated/ippro/v1/Chunk';
import type { PutChunk } from './generated/ippro/v1/PutChunk';
import { MAX_MESSAGE_BYTES } from './limits';
import { loadProtocol } from './proto-loading';
import { channelCredentials, tlsChannelOptions } from './tls';
import type { ClientTlsOptions } from './tls';

export interface ArtifactClientOptions {
  /** TLS (with certFile/keyFile: mutual TLS). Default insecure. */
  tls?: ClientTlsOptions;
  /** Maximum message size in both directions. Default MAX_MESSAGE_BYTES (4 MiB + 64 KiB). */
  maxMessageBytes?: number;
  /** Size of the chunks a put sends. Default 1 MiB. */
  chunkBytes?: number;
  /** Deadline of each call in milliseconds. Default none. */
  callTimeoutMs?: number;
  /** Extra channel options. */
  channelOptions?: grpc.ChannelOptions;
}

/** Bytes, or a stream of chunks (a Node Readable is an AsyncIterable of Buffers). */
export type ArtifactSource = Uint8Array | Iterable<Uint8Array> | AsyncIterable<Uint8Array>;

/** Client options: explicit message limits in both directions. */
export function clientChannelOptions(maxMessageBytes = MAX_MESSAGE_BYTES): grpc.ChannelOptions {
  return {
    'grpc.max_receive_message_length': maxMessageBytes,
    'grpc.max_send_message_length': maxMessageBytes,
  };
}

/** The ArtifactError for a failed call, named after the artifact. */
function callError(error: unknown, operation: string, key: string | undefined): ArtifactError {
  if (error instanceof ArtifactError) return error;
  const serviceError = error as Partial<grpc.ServiceError>;
  const code = typeof serviceError.code === 'number' ? serviceError.code : grpc.status.UNKNOWN;
  const details = serviceError.details ?? (error instanceof Error ? error.message : String(error));
  const subject = key === undefined ? '' : ` ${key}`;
  return new ArtifactError(kindOfStatus(code), `${operation}${subject}: ${grpc.status[code] ?? code}: ${details}`, key, {
    cause: error,
    code,
  });
}

function* chunksOf(bytes: Uint8Array, chunkBytes: number): Generator<Uint8Array> {
  for (let offset = 0; offset < bytes.length; offset += chunkBytes) {
    yield bytes.subarray(offset, Math.min(offset + chunkBytes, bytes.length));
  }
}

/** Splits larger pieces so no message carries more than `chunkBytes`. */
async function* rechunk(source: Iterable<Uint8Array> | AsyncIterable<Uint8Array>, chunkBytes: number): AsyncGenerator<Uint8Array> {
  for await (const piece of source) {
    if (piece.length <= chunkBytes) yield piece;
    else yield* chunksOf(piece, chunkBytes);
  }
}

/**
 * A client of the ArtifactService. Every artifact it returns has been verified against its
 * key; every failure is an ArtifactError whose `code` is the gRPC status.
 */
export class ArtifactClient {
  /** The generated client, for callers that need the raw calls. */
  readonly raw: ArtifactServiceClient;
  private readonly chunkBytes: number;
  private readonly callTimeoutMs: number | undefined;

  constructor(
    readonly address: string,
    options: ArtifactClientOptions = {},
  ) {
    const Client = loadProtocol().ippro.v1.ArtifactService;
    this.raw = new Client(address, channelCredentials(options.tls), {
      ...clientChannelOptions(options.maxMessageBytes),
      ...tlsChannelOptions(options.tls),
      ...options.channelOptions,
    });
    this.chunkBytes = options.chunkBytes ?? CHUNK_BYTES;
    this.callTimeoutMs = options.callTimeoutMs;
  }

  private callOptions(): grpc.CallOptions {
    return this.callTimeoutMs === undefined ? {} : { deadline: Date.now() + this.callTimeoutMs };
  }

  /**
   * Stores an artifact. Bytes: the key and size are computed here. A stream: `declared.key`
   * and `declared.size` are required (the first message carries them), the server verifies.
   */
  async putArtifact(source: ArtifactSource, declared: PutDeclaration = {}): Promise<PutOutcome> {
    let key = declared.key;
    let size = declared.size;
    let chunks: Iterable<Uint8Array> | AsyncIterable<Uint8Array>;
    if (source instanceof Uint8Array) {
      key ??= artifactKeyOf(source);
      size ??= source.length;
      chunks = chunksOf(source, this.chunkBytes);
    } else {
      if (key === undefined || size === undefined) {
        throw new ArtifactError('invalid-argument', 'putArtifact of a stream needs the declared key and size (use putArtifactFile for a file)');
      }
      chunks = rechunk(source, this.chunkBytes);
    }
    assertArtifactKey(key);
    if (!Number.isSafeInteger(size) || size < 0) {
      throw new ArtifactError('invalid-argument', `declared size ${describeValue(size)} of artifact ${key} is not a byte count`, key);
    }
    const header: PutChunk = { header: { key, size } };
    return this.sendPut(key, header, chunks);
  }

  /** Stores a file: hashes it, then streams it. */
  async putArtifactFile(path: string): Promise<PutOutcome> {
    const { size } = await stat(path);
    const hash = createHash('sha256');
    for await (const piece of createReadStream(path, { highWaterMark: this.chunkBytes })) hash.update(piece as Buffer);
    const key = hash.digest('hex');
    return this.putArtifact(createReadStream(path, { highWaterMark: this.chunkBytes }), { key, size });
  }

  private sendPut(key: string, header: PutChunk, chunks: Iterable<Uint8Array> | AsyncIterable<Uint8Array>): Promise<PutOutcome> {
    return new Promise<PutOutcome>((resolve, reject) => {
      let settled = false;
      const call = this.raw.Put(this.callOptions(), (error, result) => {
        settled = true;
        if (error) reject(callError(error, 'put artifact', key));
        else if (result == null) reject(new ArtifactError('internal', `put artifact ${key}: empty response`, key));
        else resolve({ key: result.key, size: result.size, alreadyExisted: result.alreadyExisted });
      });
      const waitForDrain = (): Promise<void> =>
        new Promise((drained) => {
          const done = (): void => {
            call.off('drain', done);
            call.off('status', done);
            drained();
          };
          call.on('drain', done);
          call.on('status', done);
        });
      const pump = async (): Promise<void> => {
        if (!call.write(header)) await waitForDrain();
        for await (const data of chunks) {
          if (settled) return; // the server already answered (an error); stop sending
          if (!call.write({ data })) await waitForDrain();
        }
        if (!settled) call.end();
      };
      pump().catch((error: unknown) => {
        call.cancel();
        if (!settled) {
          settled = true;
          reject(error instanceof ArtifactError ? error : new ArtifactError('internal', `put artifact ${key}: reading the source failed: ${(error as Error).message}`, key, { cause: error }));
        }
      });
    });
  }

  /**
   * The artifact's chunks as they arrive, hashed on the way: the iteration throws DATA_LOSS at
   * the end if they do not hash to `key`, so treat them as provisional until it completes (or
   * use getArtifact, or pipe them into an ArtifactStore's putStream, which verifies too).
   */
  async *getArtifactChunks(key: string): AsyncGenerator<Buffer, void, undefined> {
    assertArtifactKey(key);
    const call = this.raw.Get({ key }, this.callOptions());
    const hash = createHash('sha256');
    let offset = 0;
    let total: number | undefined;
    try {
      for await (const message of call as AsyncIterable<Chunk__Output>) {
        if (message.offset !== offset) {
          throw new ArtifactError('data-loss', `get artifact ${key}: chunk at offset ${message.offset}, expected ${offset}`, key);
        }
        total ??= message.totalSize;
        hash.update(message.data);
        offset += message.data.length;
        yield message.data;
      }
    } catch (error) {
      throw callError(error, 'get artifact', key);
    } finally {
      call.cancel();
    }
    const actual = hash.digest('hex');
    if (offset !== (total ?? 0) || actual !== key) {
      throw new ArtifactError(
        'data-loss',
        `get artifact ${key}: received ${offset} bytes with sha256 ${actual}, not the artifact (${total ?? 0} bytes); discarded`,
        key,
      );
    }
  }

  /** The verified bytes of an artifact. NOT_FOUND, DATA_LOSS, ... as ArtifactError. */
  async getArtifact(key: string): Promise<Buffer> {
    const pieces: Buffer[] = [];
    let size = 0;
    for await (const piece of this.getArtifactChunks(key)) {
      pieces.push(piece);
      size += piece.length;
    }
    return pieces.length === 1 && pieces[0] !== undefined ? pieces[0] : Buffer.concat(pieces, size);
  }

  /** Key and size of a stored artifact, or null when the server does not have it. */
  statArtifact(key: string): Promise<ArtifactStat | null> {
    assertArtifactKey(key);
    return new Promise((resolve, reject) => {
      this.raw.Stat({ key }, this.callOptions(), (error, result) => {
        if (error?.code === grpc.status.NOT_FOUND) resolve(null);
        else if (error) reject(callError(error, 'stat artifact', key));
        else if (result == null) reject(new ArtifactError('internal', `stat artifact ${key}: empty response`, key));
        else resolve({ key: result.key, size: result.size });
      });
    });
  }

  /** Resolves once the channel is connected (TLS handshake included), or rejects at the deadline. */
  waitForReady(timeoutMs = 5000): Promise<void> {
    return new Promise((resolve, reject) => {
      this.raw.waitForReady(Date.now() + timeoutMs, (error) => (error ? reject(error) : resolve()));
    });
  }

  close(): void {
    this.raw.close();
  }
}
