import { createHash, randomUUID } from 'node:crypto';
import type { Hash } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm, stat, unlink, utimes } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { ArtifactError } from './artifact-error';
import type { ArtifactStorage } from './artifact-storage';
import { artifactKeyOf, assertArtifactKey, describeValue } from './artifact-key';
import { CHUNK_BYTES } from './limits';

export interface ArtifactStoreOptions {
  /** Directory of the store; `objects/`, `tmp/` and `corrupt/` are created inside it. */
  root: string;
  /**
   * Size bound in bytes for a cache (a worker's): after each put the least recently used
   * artifacts are evicted until the total is at most this. Default: unbounded.
   */
  maxBytes?: number;
  /** fsync each artifact before it is renamed into place. Default true. */
  fsync?: boolean;
}

export interface ArtifactStat {
  key: string;
  size: number;
}

export interface PutOutcome extends ArtifactStat {
  /** The store held the artifact before this put (its bytes were verified all the same). */
  alreadyExisted: boolean;
}

/** What the writer of a put declares; the bytes are checked against it before anything is stored. */
export interface PutDeclaration {
  /** The sha256 the bytes must have. */
  key?: string;
  /** The exact number of bytes. */
  size?: number;
}

/** Temporary files older than this are left-overs of a crashed writer, removed on open. */
const STALE_TEMP_MS = 60 * 60 * 1000;

function named(key: string | undefined): string {
  return key === undefined ? 'artifact' : `artifact ${key}`;
}

function isMissing(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}

/**
 * A content-addressed store on disk. Keys are sha256 hex digests of the bytes and nothing else,
 * so no key can name a path. Writes go to a temporary file, are hashed on the way, checked
 * against the declared key and size, and only then renamed into place: a reader never sees a
 * partial artifact, and bytes that do not match are never stored. Reads verify the hash; a
 * corrupted artifact is moved aside (into `corrupt/`) and reported, never returned.
 *
 * With `maxBytes` the store is a cache with LRU eviction. Recency is kept in memory and in the
 * files' modification times, so it survives a restart.
 */
export class ArtifactStore implements ArtifactStorage {
  /** key -> size, least recently used first. */
  private readonly entries = new Map<string, number>();
  private total = 0;

  private constructor(
    readonly root: string,
    readonly maxBytes: number | undefined,
    private readonly fsync: boolean,
  ) {}

  static async open(options: ArtifactStoreOptions): Promise<ArtifactStore> {
    const { maxBytes } = options;
    if (maxBytes !== undefined && (!Number.isSafeInteger(maxBytes) || maxBytes <= 0)) {
      throw new ArtifactError('invalid-argument', `artifact store maxBytes ${describeValue(maxBytes)} must be a positive integer`);
    }
    const store = new ArtifactStore(options.root, maxBytes, options.fsync ?? true);
    await Promise.all(['objects', 'tmp', 'corrupt'].map((dir) => mkdir(join(options.root, dir), { recursive: true })));
    await store.removeStaleTemporaries();
    await store.scan();
    await store.evict();
    return store;
  }

  get description(): string {
    return `artifact store ${this.root}`;
  }

  close(): void {
    // Files are opened per call: nothing to release.
  }

  /** Bytes held (as far as this process knows). */
  get totalBytes(): number {
    return this.total;
  }

  usedBytes(): number {
    return this.total;
  }

  /** Keys held, least recently used first. */
  keys(): string[] {
    return [...this.entries.keys()];
  }

  /** The file of an artifact. Throws INVALID_ARGUMENT for anything but a sha256 key. */
  pathOf(key: string): string {
    assertArtifactKey(key);
    return join(this.root, 'objects', key.slice(0, 2), key);
  }

  async put(bytes: Uint8Array, declared: PutDeclaration = {}): Promise<PutOutcome> {
    return this.putStream([bytes], { ...declared, size: declared.size ?? bytes.length });
  }

  /**
   * Stores the bytes of `source`. Throws DATA_LOSS (kind 'data-loss') when they do not match
   * the declared key or size, RESOURCE_EXHAUSTED ('too-large') when they exceed `maxBytes`;
   * either way nothing is stored and the temporary file is removed.
   */
  async putStream(source: Iterable<Uint8Array> | AsyncIterable<Uint8Array>, declared: PutDeclaration = {}): Promise<PutOutcome> {
    const { key: declaredKey, size: declaredSize } = declared;
    if (declaredKey !== undefined) assertArtifactKey(declaredKey, 'declared artifact key');
    if (declaredSize !== undefined && (!Number.isSafeInteger(declaredSize) || declaredSize < 0)) {
      throw new ArtifactError('invalid-argument', `declared artifact size ${describeValue(declaredSize)} is not a byte count`, declaredKey);
    }
    if (declaredSize !== undefined) this.checkFits(declaredSize, declaredKey);

    const temporary = join(this.root, 'tmp', `${process.pid}-${randomUUID()}.part`);
    const hash = createHash('sha256');
    let handle: FileHandle | undefined;
    let size = 0;
    try {
      handle = await open(temporary, 'wx', 0o644);
      for await (const chunk of source) {
        size += chunk.length;
        if (declaredSize !== undefined && size > declaredSize) {
          throw new ArtifactError('data-loss', `${named(declaredKey)} has more than its declared ${declaredSize} bytes; nothing stored`, declaredKey);
        }
        this.checkFits(size, declaredKey);
        hash.update(chunk);
        await writeAll(handle, chunk);
      }
      const key = hash.digest('hex');
      if (declaredSize !== undefined && size !== declaredSize) {
        throw new ArtifactError('data-loss', `${named(declaredKey ?? key)} has ${size} bytes, not the declared ${declaredSize}; nothing stored`, declaredKey ?? key);
      }
      if (declaredKey !== undefined && key !== declaredKey) {
        throw new ArtifactError('data-loss', `artifact bytes have sha256 ${key}, not the declared key ${declaredKey}; nothing stored`, declaredKey);
      }
      if (this.fsync) await handle.sync();
      await handle.close();
      handle = undefined;
      const target = this.pathOf(key);
      const alreadyExisted = await exists(target);
      await mkdir(join(this.root, 'objects', key.slice(0, 2)), { recursive: true });
      await rename(temporary, target);
      this.touch(key, size);
      await this.evict(key);
      return { key, size, alreadyExisted };
    } finally {
      if (handle !== undefined) await handle.close().catch(() => undefined);
      await rm(temporary, { force: true }).catch(() => undefined);
    }
  }

  /** The verified bytes of an artifact; NOT_FOUND if absent, DATA_LOSS if corrupted. */
  async get(key: string): Promise<Buffer> {
    const path = this.pathOf(key);
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
    } catch (error) {
      if (isMissing(error)) throw this.notFound(key);
      throw error;
    }
    const actual = artifactKeyOf(bytes);
    if (actual !== key) throw await this.corrupted(key, actual);
    this.touch(key, bytes.length, path);
    return bytes;
  }

  /**
   * The bytes of an artifact in chunks of `chunkBytes`, hashed on the way: when the last chunk
   * does not complete the declared hash the iteration throws DATA_LOSS instead of finishing, so
   * a consumer must treat the chunks as provisional until the iteration completes (the gRPC
   * Get does: its client verifies the whole artifact before returning it).
   */
  async *read(key: string, chunkBytes = CHUNK_BYTES): AsyncGenerator<Buffer, void, undefined> {
    const path = this.pathOf(key);
    let handle: FileHandle;
    try {
      handle = await open(path, 'r');
    } catch (error) {
      if (isMissing(error)) throw this.notFound(key);
      throw error;
    }
    const hash: Hash = createHash('sha256');
    let size = 0;
    try {
      for (;;) {
        const buffer = Buffer.allocUnsafe(chunkBytes);
        const { bytesRead } = await handle.read(buffer, 0, chunkBytes, size);
        if (bytesRead === 0) break;
        const chunk = bytesRead === chunkBytes ? buffer : buffer.subarray(0, bytesRead);
        hash.update(chunk);
        size += bytesRead;
        yield chunk;
      }
    } finally {
      await handle.close();
    }
    const actual = hash.digest('hex');
    if (actual !== key) throw await this.corrupted(key, actual);
    this.touch(key, size, path);
  }

  /** Size of a stored artifact, or undefined when absent (not verified: see get/read). */
  async stat(key: string): Promise<ArtifactStat | undefined> {
    const path = this.pathOf(key);
    try {
      const info = await stat(path);
      return { key, size: info.size };
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  }

  async has(key: string): Promise<boolean> {
    return (await this.stat(key)) !== undefined;
  }

  /** Removes an artifact; false when it was absent. */
  async delete(key: string): Promise<boolean> {
    const path = this.pathOf(key);
    this.forget(key);
    try {
      await unlink(path);
      return true;
    } catch (error) {
      if (isMissing(error)) return false;
      throw error;
    }
  }

  /**
   * Where earlier reads moved corrupted copies of an artifact (in `corrupt/`), oldest first: a
   * missing artifact found here was corrupted rather than deleted.
   */
  async corruptedCopies(key: string): Promise<string[]> {
    assertArtifactKey(key);
    const dir = join(this.root, 'corrupt');
    const names = await readdir(dir).catch(() => [] as string[]);
    return names
      .filter((name) => name.startsWith(`${key}.`))
      .sort((a, b) => Number(a.split('.')[1]) - Number(b.split('.')[1]))
      .map((name) => join(dir, name));
  }

  private notFound(key: string): ArtifactError {
    this.forget(key);
    return new ArtifactError('not-found', `artifact ${key} not found`, key);
  }

  /** Moves a corrupted artifact aside so that it is never served and a new put can restore it. */
  private async corrupted(key: string, actual: string): Promise<ArtifactError> {
    this.forget(key);
    const aside = join(this.root, 'corrupt', `${key}.${Date.now()}.${randomUUID().slice(0, 8)}`);
    await rename(this.pathOf(key), aside).catch(() => undefined);
    return new ArtifactError(
      'data-loss',
      `artifact ${key} is corrupted: its stored bytes have sha256 ${actual}; moved to ${aside}`,
      key,
    );
  }

  private checkFits(size: number, key: string | undefined): void {
    if (this.maxBytes !== undefined && size > this.maxBytes) {
      throw new ArtifactError(
        'too-large',
        `${named(key)} of ${size} bytes exceeds the store's maxBytes ${this.maxBytes}`,
        key,
      );
    }
  }

  /** Marks an artifact most recently used (in memory, and best effort in its mtime). */
  private touch(key: string, size: number, path?: string): void {
    this.forget(key);
    this.entries.set(key, size);
    this.total += size;
    if (path !== undefined && this.maxBytes !== undefined) {
      const now = new Date();
      utimes(path, now, now).catch(() => undefined);
    }
  }

  private forget(key: string): void {
    const size = this.entries.get(key);
    if (size !== undefined) {
      this.entries.delete(key);
      this.total -= size;
    }
  }

  /** Evicts least recently used artifacts (never `keep`) until the total fits maxBytes. */
  private async evict(keep?: string): Promise<void> {
    if (this.maxBytes === undefined) return;
    const victims: string[] = [];
    for (const [key] of this.entries) {
      if (this.total <= this.maxBytes) break;
      if (key === keep) continue;
      this.forget(key);
      victims.push(key);
    }
    // The bookkeeping above is synchronous, so concurrent puts never evict the same entry
    // twice. A reader that already opened a victim keeps reading it (POSIX); a later get
    // reports NOT_FOUND.
    await Promise.all(victims.map((key) => unlink(this.pathOf(key)).catch(() => undefined)));
  }

  private async scan(): Promise<void> {
    const objects = join(this.root, 'objects');
    const found: { key: string; size: number; mtime: number }[] = [];
    for (const prefix of await readdir(objects)) {
      let names: string[];
      try {
        names = await readdir(join(objects, prefix));
      } catch {
        continue;
      }
      for (const name of names) {
        if (!/^[0-9a-f]{64}$/.test(name) || name.slice(0, 2) !== prefix) continue;
        const info = await stat(join(objects, prefix, name)).catch(() => undefined);
        if (info?.isFile()) found.push({ key: name, size: info.size, mtime: info.mtimeMs });
      }
    }
    found.sort((a, b) => a.mtime - b.mtime || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    for (const entry of found) this.touch(entry.key, entry.size);
  }

  private async removeStaleTemporaries(): Promise<void> {
    const dir = join(this.root, 'tmp');
    const now = Date.now();
    for (const name of await readdir(dir)) {
      const path = join(dir, name);
      const info = await stat(path).catch(() => undefined);
      if (info !== undefined && now - info.mtimeMs > STALE_TEMP_MS) await rm(path, { force: true });
    }
  }
}

async function writeAll(handle: FileHandle, chunk: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < chunk.length) {
    const { bytesWritten } = await handle.write(chunk, offset, chunk.length - offset);
    offset += bytesWritten;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (error) {
    if (isMissing(error)) return false;
    throw error;
  }
}
