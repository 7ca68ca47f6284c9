import type { ArtifactStat, PutDeclaration, PutOutcome } from './artifact-store';

/**
 * What every artifact store offers: the store on disk (`ArtifactStore`), a bucket of an
 * S3-compatible service (`S3ArtifactStore`), an artifact service reached over gRPC
 * (`ServiceStorage`), or a remote store behind a local cache (`CachedStorage`). Keys are the
 * sha256 of the bytes; every read is verified against its key (DATA_LOSS naming the key
 * otherwise) and a put stores nothing whose bytes do not match what was declared. The
 * activities, the compute core and the artifact service work on any of them.
 */
export interface ArtifactStorage {
  /** Where the artifacts live, for logs: `artifact store /var/lib/ippro`, `s3://bucket/prefix`. */
  readonly description: string;
  put(bytes: Uint8Array, declared?: PutDeclaration): Promise<PutOutcome>;
  /** Stores a stream; DATA_LOSS (nothing stored) when the bytes do not match `declared`. */
  putStream(source: Iterable<Uint8Array> | AsyncIterable<Uint8Array>, declared?: PutDeclaration): Promise<PutOutcome>;
  /** The verified bytes; NOT_FOUND when absent, DATA_LOSS when they do not hash to `key`. */
  get(key: string): Promise<Buffer>;
  /** The bytes in chunks, hashed on the way: the iteration throws DATA_LOSS at its end on a mismatch. */
  read(key: string, chunkBytes?: number): AsyncIterable<Buffer>;
  /** Size of a stored artifact, or undefined when absent (not verified). */
  stat(key: string): Promise<ArtifactStat | undefined>;
  has(key: string): Promise<boolean>;
  /** Removes an artifact; false when it was absent. */
  delete(key: string): Promise<boolean>;
  /**
   * Where earlier reads moved corrupted copies of an artifact aside, oldest first (the store on
   * disk does; a bucket leaves a corrupted object in place, to be replaced by a put: none).
   */
  corruptedCopies(key: string): Promise<string[]>;
  /**
   * Bytes the storage holds now, when it keeps count (the store on disk counts what it holds);
   * undefined when it cannot tell without listing everything (a bucket, a remote service).
   */
  usedBytes(): number | undefined;
  /** Releases connections; the storage is not used afterwards. */
  close(): void;
}

/** Stores bytes and returns their key (sha256): how everything that makes an artifact stores it. */
export async function storeBytes(storage: ArtifactStorage, bytes: Uint8Array): Promise<string> {
  return (await storage.put(bytes)).key;
}
