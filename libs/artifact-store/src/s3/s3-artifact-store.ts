import { createHash, randomUUID } from 'node:crypto';
import type { Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import { ArtifactError } from '../artifact-error';
import { assertArtifactKey, describeValue } from '../artifact-key';
import type { ArtifactStat, PutDeclaration, PutOutcome } from '../artifact-store';
import type { ArtifactStorage } from '../artifact-storage';
import { CHUNK_BYTES } from '../limits';
import { createS3Client, loadS3Sdk } from './client';
import type { S3ConnectionOptions, S3Sdk } from './client';
import { isMissingObject, isTransientS3Error, summarize, toArtifactError } from './errors';
import type { S3Context } from './errors';
import { formatS3Url, objectKeyOf } from './location';
import type { S3Location } from './location';
import { MIN_PART_BYTES, partsOf, uploadInParts } from './multipart-upload';
import { withRetries } from './retry';
import type { RetryPolicy } from './retry';

export interface S3ArtifactStoreOptions extends S3ConnectionOptions, S3Location {
  /** Size of a multipart upload's parts; larger artifacts are uploaded in parts. Default 8 MiB, at least 5 MiB. */
  partBytes?: number;
  /** Parts uploaded at once. Default 4. */
  concurrency?: number;
  /** Retries of transient failures (throttling, 5xx, timeouts, reset connections). */
  retry?: RetryPolicy;
  /** At open, check with HeadBucket that the bucket exists and the credentials are accepted. Default true. */
  checkBucket?: boolean;
  /** Where a stream of unknown key is staged before its upload. Default the OS temporary directory. */
  spoolDir?: string;
  /** Told about every retry (for logs). */
  onRetry?: (line: string) => void;
}

export const DEFAULT_PART_BYTES = 8 * 1024 * 1024;

type Chunks = Iterable<Uint8Array> | AsyncIterable<Uint8Array>;

/** Bytes hashed and counted on their way through, checked against a declared size as they come. */
class Tally {
  private readonly hash: Hash = createHash('sha256');
  size = 0;

  constructor(private readonly declared: PutDeclaration) {}

  async *through<T extends Uint8Array>(source: Iterable<T> | AsyncIterable<T>): AsyncGenerator<T> {
    for await (const chunk of source) {
      this.add(chunk);
      yield chunk;
    }
  }

  add(chunk: Uint8Array): void {
    this.size += chunk.length;
    const { key, size } = this.declared;
    if (size !== undefined && this.size > size) {
      throw new ArtifactError('data-loss', `${key === undefined ? 'artifact' : `artifact ${key}`} has more than its declared ${size} bytes; nothing stored`, key);
    }
    this.hash.update(chunk);
  }

  /** The key of all the bytes; DATA_LOSS when they do not match the declaration. */
  finish(): string {
    const actual = this.hash.digest('hex');
    const { key, size } = this.declared;
    if (size !== undefined && this.size !== size) {
      throw new ArtifactError('data-loss', `artifact ${key ?? actual} has ${this.size} bytes, not the declared ${size}; nothing stored`, key ?? actual);
    }
    if (key !== undefined && actual !== key) {
      throw new ArtifactError('data-loss', `artifact bytes have sha256 ${actual}, not the declared key ${key}; nothing stored`, key);
    }
    return actual;
  }
}

function checkDeclaration(declared: PutDeclaration): void {
  if (declared.key !== undefined) assertArtifactKey(declared.key, 'declared artifact key');
  const { size } = declared;
  if (size !== undefined && (!Number.isSafeInteger(size) || size < 0)) {
    throw new ArtifactError('invalid-argument', `declared artifact size ${describeValue(size)} is not a byte count`, declared.key);
  }
}

/** Takes chunks from the front of an iterator until more than `limit` bytes came, or it ended. */
async function takeUpTo(iterator: AsyncIterator<Uint8Array>, limit: number): Promise<{ head: Uint8Array[]; size: number; ended: boolean }> {
  const head: Uint8Array[] = [];
  let size = 0;
  while (size <= limit) {
    const next = await iterator.next();
    if (next.done === true) return { head, size, ended: true };
    head.push(next.value);
    size += next.value.length;
  }
  return { head, size, ended: false };
}

async function* prepend(head: Uint8Array[], rest: AsyncIterator<Uint8Array>): AsyncGenerator<Uint8Array> {
  yield* head;
  for (;;) {
    const next = await rest.next();
    if (next.done === true) return;
    yield next.value;
  }
}

/** Splits pieces into chunks of at most `chunkBytes`. */
async function* rechunk(source: AsyncIterable<Uint8Array>, chunkBytes: number): AsyncGenerator<Buffer> {
  for await (const piece of source) {
    const buffer = Buffer.isBuffer(piece) ? piece : Buffer.from(piece.buffer, piece.byteOffset, piece.length);
    for (let offset = 0; offset < buffer.length; offset += chunkBytes) yield buffer.subarray(offset, Math.min(offset + chunkBytes, buffer.length));
  }
}

function shortRead(objectKey: string, got: number, expected: number): Error {
  const error = new Error(`GetObject ${objectKey}: the connection ended after ${got} of ${expected} bytes`);
  error.name = 'ShortRead';
  return error;
}

/**
 * A whole response body and its sha256, hashed piece by piece as it arrives (so that hashing
 * overlaps the transfer) into one buffer of the announced length.
 */
async function receiveHashed(body: Readable, length: number | undefined, objectKey: string): Promise<{ bytes: Buffer; sha256: string }> {
  const hash = createHash('sha256');
  const whole = length === undefined ? undefined : Buffer.allocUnsafe(length);
  const pieces: Buffer[] = [];
  let size = 0;
  for await (const piece of body as AsyncIterable<Buffer>) {
    hash.update(piece);
    if (whole === undefined) pieces.push(piece);
    else if (size + piece.length <= whole.length) piece.copy(whole, size);
    else throw new Error(`GetObject ${objectKey}: more than the announced ${whole.length} bytes`);
    size += piece.length;
  }
  if (length !== undefined && size !== length) throw shortRead(objectKey, size, length);
  return { bytes: whole ?? Buffer.concat(pieces, size), sha256: hash.digest('hex') };
}

/**
 * A content-addressed artifact store in a bucket of an S3-compatible service (AWS S3,
 * SeaweedFS, MinIO, ...): artifact KEY is the object `<prefix>/<KEY>`. Workers and the
 * orchestrator can share one bucket instead of streaming through the artifact service.
 *
 * - A put hashes the bytes before they become visible: small artifacts go up in one PutObject
 *   once verified; larger ones (over `partBytes`) as a multipart upload that is completed only
 *   when the bytes match the declared key and size, and aborted otherwise, so a reader never
 *   sees a partial or wrong object.
 * - Every get is verified against its key: a mismatch is DATA_LOSS naming the key and the
 *   object (never returned); a later put of the right bytes replaces the object.
 * - Transient failures (throttling, 5xx, timeouts, reset or refused connections) are retried
 *   with exponential backoff; a missing bucket and rejected or missing credentials are
 *   FAILED_PRECONDITION ('misconfigured') with a message saying what to fix.
 */
export class S3ArtifactStore implements ArtifactStorage {
  private readonly context: S3Context;
  private readonly partBytes: number;
  private readonly concurrency: number;

  private constructor(
    private readonly sdk: S3Sdk,
    private readonly client: S3Client,
    private readonly options: S3ArtifactStoreOptions,
  ) {
    this.context = { store: formatS3Url(options), bucket: options.bucket, endpoint: options.endpoint ?? 'AWS S3' };
    this.partBytes = options.partBytes ?? DEFAULT_PART_BYTES;
    this.concurrency = options.concurrency ?? 4;
  }

  /** Connects, and (unless checkBucket is false) checks the bucket and the credentials. */
  static async open(options: S3ArtifactStoreOptions): Promise<S3ArtifactStore> {
    const partBytes = options.partBytes ?? DEFAULT_PART_BYTES;
    if (!Number.isSafeInteger(partBytes) || partBytes < MIN_PART_BYTES) {
      throw new ArtifactError('invalid-argument', `S3 partBytes ${describeValue(partBytes)} must be an integer of at least ${MIN_PART_BYTES} (5 MiB)`);
    }
    const concurrency = options.concurrency ?? 4;
    if (!Number.isSafeInteger(concurrency) || concurrency < 1) {
      throw new ArtifactError('invalid-argument', `S3 concurrency ${describeValue(concurrency)} must be a positive integer`);
    }
    const sdk = await loadS3Sdk();
    const store = new S3ArtifactStore(sdk, createS3Client(sdk, options), options);
    if (options.checkBucket ?? true) {
      try {
        await store.checkBucket();
      } catch (error) {
        store.close();
        throw error;
      }
    }
    return store;
  }

  /** Unknown: counting a bucket's bytes means listing every object. */
  usedBytes(): undefined {
    return undefined;
  }

  /** `s3://bucket/prefix` */
  get description(): string {
    return this.context.store;
  }

  get location(): S3Location {
    return { bucket: this.options.bucket, prefix: this.options.prefix };
  }

  /** The object key of an artifact. Throws INVALID_ARGUMENT for anything but a sha256 key. */
  objectKeyOf(key: string): string {
    assertArtifactKey(key);
    return objectKeyOf(this.options, key);
  }

  /** HeadBucket: resolves when the bucket exists and the credentials may use it. */
  async checkBucket(): Promise<void> {
    await this.request('HeadBucket', undefined, () => this.client.send(new this.sdk.HeadBucketCommand({ Bucket: this.options.bucket })));
  }

  async put(bytes: Uint8Array, declared: PutDeclaration = {}): Promise<PutOutcome> {
    return this.putStream([bytes], { ...declared, size: declared.size ?? bytes.length });
  }

  /**
   * Stores a stream. Up to one part is held in memory and put at once; a longer stream with a
   * declared key goes straight into a multipart upload at its final key; without a declared
   * key it is staged in a temporary file first (its key, and so its object, is known only at
   * its end).
   */
  async putStream(source: Chunks, declared: PutDeclaration = {}): Promise<PutOutcome> {
    checkDeclaration(declared);
    const iterator = (async function* () {
      yield* source;
    })();
    const { head, size, ended } = await takeUpTo(iterator, this.partBytes);
    if (ended) {
      const bytes = head.length === 1 && head[0] !== undefined ? head[0] : Buffer.concat(head, size);
      return this.putSmall(bytes, declared);
    }
    if (declared.key !== undefined) return this.putLarge(prepend(head, iterator), { ...declared, key: declared.key });
    return this.putStaged(prepend(head, iterator), declared);
  }

  private async putSmall(bytes: Uint8Array, declared: PutDeclaration): Promise<PutOutcome> {
    const tally = new Tally(declared);
    tally.add(bytes);
    const key = tally.finish();
    const alreadyExisted = (await this.stat(key)) !== undefined;
    // The server verifies the CRC32 and refuses bytes damaged on the way (see createS3Client).
    await this.request('PutObject', key, () =>
      this.client.send(new this.sdk.PutObjectCommand({ Bucket: this.options.bucket, Key: this.objectKeyOf(key), Body: bytes, ContentLength: bytes.length, ChecksumAlgorithm: 'CRC32' })),
    );
    return { key, size: bytes.length, alreadyExisted };
  }

  private async putLarge(source: AsyncIterable<Uint8Array>, declared: PutDeclaration & { key: string }): Promise<PutOutcome> {
    const { key } = declared;
    const alreadyExisted = (await this.stat(key)) !== undefined;
    const tally = new Tally(declared);
    const target = {
      sdk: this.sdk,
      client: this.client,
      bucket: this.options.bucket,
      objectKey: this.objectKeyOf(key),
      concurrency: this.concurrency,
      retry: <T>(operation: string, request: () => Promise<T>) => this.retried(operation, key, request),
    };
    try {
      // Hashed part by part as they go out, so that hashing overlaps the upload of earlier parts.
      await uploadInParts(target, tally.through(partsOf(source, this.partBytes)), () => tally.finish());
    } catch (error) {
      throw toArtifactError(error, 'put', this.context, key);
    }
    return { key, size: tally.size, alreadyExisted };
  }

  private async putStaged(source: AsyncIterable<Uint8Array>, declared: PutDeclaration): Promise<PutOutcome> {
    const dir = await mkdtemp(join(this.options.spoolDir ?? tmpdir(), 'ippro-s3-put-'));
    const file = join(dir, `${randomUUID()}.part`);
    try {
      const tally = new Tally(declared);
      const handle = await open(file, 'wx', 0o600);
      try {
        for await (const chunk of tally.through(source)) await handle.write(chunk);
      } finally {
        await handle.close();
      }
      const key = tally.finish();
      return await this.putLarge(createReadStream(file, { highWaterMark: CHUNK_BYTES }) as AsyncIterable<Buffer>, { key, size: tally.size });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /** The verified bytes of an artifact; NOT_FOUND if absent, DATA_LOSS if they do not hash to `key`. */
  async get(key: string): Promise<Buffer> {
    const objectKey = this.objectKeyOf(key);
    const { bytes, sha256 } = await this.request('GetObject', key, async () => {
      const answer = await this.client.send(new this.sdk.GetObjectCommand({ Bucket: this.options.bucket, Key: objectKey }));
      return receiveHashed(answer.Body as Readable, answer.ContentLength, objectKey);
    });
    if (sha256 !== key) throw this.corrupted(key, sha256, bytes.length);
    return bytes;
  }

  /**
   * The bytes in chunks of `chunkBytes`, hashed on the way; the iteration throws DATA_LOSS at
   * its end when they do not hash to `key` (treat the chunks as provisional until then).
   */
  async *read(key: string, chunkBytes = CHUNK_BYTES): AsyncGenerator<Buffer, void, undefined> {
    const objectKey = this.objectKeyOf(key);
    const answer = await this.request('GetObject', key, () => this.client.send(new this.sdk.GetObjectCommand({ Bucket: this.options.bucket, Key: objectKey })));
    const hash = createHash('sha256');
    let size = 0;
    try {
      for await (const chunk of rechunk(answer.Body as Readable, chunkBytes)) {
        hash.update(chunk);
        size += chunk.length;
        yield chunk;
      }
    } catch (error) {
      throw toArtifactError(error, 'read', this.context, key);
    }
    if (answer.ContentLength !== undefined && size !== answer.ContentLength) {
      throw new ArtifactError('unavailable', `read artifact ${key} in ${this.description}: the connection ended after ${size} of ${answer.ContentLength} bytes`, key);
    }
    const actual = hash.digest('hex');
    if (actual !== key) throw this.corrupted(key, actual, size);
  }

  /** Size of a stored artifact, or undefined when absent (not verified: see get/read). */
  async stat(key: string): Promise<ArtifactStat | undefined> {
    const objectKey = this.objectKeyOf(key);
    try {
      const head = await this.retried('HeadObject', key, () => this.client.send(new this.sdk.HeadObjectCommand({ Bucket: this.options.bucket, Key: objectKey })));
      return { key, size: head.ContentLength ?? 0 };
    } catch (error) {
      if (isMissingObject(error)) return undefined;
      throw toArtifactError(error, 'stat', this.context, key);
    }
  }

  async has(key: string): Promise<boolean> {
    return (await this.stat(key)) !== undefined;
  }

  /** Removes an artifact; false when it was absent. */
  async delete(key: string): Promise<boolean> {
    const existed = await this.has(key);
    await this.request('DeleteObject', key, () => this.client.send(new this.sdk.DeleteObjectCommand({ Bucket: this.options.bucket, Key: this.objectKeyOf(key) })));
    return existed;
  }

  /** None: a corrupted object stays where it is (every get reports it) until a put replaces it. */
  async corruptedCopies(key: string): Promise<string[]> {
    this.objectKeyOf(key);
    return [];
  }

  close(): void {
    this.client.destroy();
  }

  private corrupted(key: string, actual: string, size: number): ArtifactError {
    return new ArtifactError(
      'data-loss',
      `artifact ${key} in ${this.description} is corrupted: object ${this.objectKeyOf(key)} holds ${size} bytes with sha256 ${actual}; a put of the right bytes replaces it`,
      key,
    );
  }

  /** One request with retries; its failure as an ArtifactError. */
  private async request<T>(operation: string, key: string | undefined, send: () => Promise<T>): Promise<T> {
    try {
      return await this.retried(operation, key, send);
    } catch (error) {
      throw toArtifactError(error, operation, this.context, key);
    }
  }

  private retried<T>(operation: string, key: string | undefined, send: () => Promise<T>): Promise<T> {
    return withRetries(() => send(), this.options.retry ?? {}, {
      isTransient: isTransientS3Error,
      onRetry: (error, attempt, delayMs) =>
        this.options.onRetry?.(`${operation}${key === undefined ? '' : ` ${key}`} on ${this.description}: ${summarize(error)}; retry ${attempt} in ${delayMs} ms`),
    });
  }
}
