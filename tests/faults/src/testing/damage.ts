import { existsSync, mkdirSync, readFileSync, readdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Where a store (or a worker's cache) keeps an artifact: `<root>/objects/<first two hex digits>/<id>`. */
export function artifactFile(root: string, id: string): string {
  return join(root, 'objects', id.slice(0, 2), id);
}

/** Flips the bits of one byte in the middle of a file, in place (same size, different sha256). */
export function flipByte(file: string): void {
  const bytes = readFileSync(file);
  const at = Math.floor(bytes.length / 2);
  bytes[at] = (bytes[at] as number) ^ 0xff;
  writeFileSync(file, bytes);
}

/** Writes `bytes` with one byte flipped where a store would keep artifact `id` (a corrupted copy). */
export function plantCorruptedCopy(root: string, id: string, bytes: Uint8Array): string {
  const file = artifactFile(root, id);
  mkdirSync(join(root, 'objects', id.slice(0, 2)), { recursive: true });
  writeFileSync(file, bytes);
  flipByte(file);
  return file;
}

/** The copies a store moved aside as corrupted (`<root>/corrupt/<id>.<time>.<random>`). */
export function quarantined(root: string, id: string): string[] {
  const dir = join(root, 'corrupt');
  return existsSync(dir) ? readdirSync(dir).filter((name) => name.startsWith(`${id}.`)) : [];
}

/**
 * Damages an artifact as soon as it appears in a store: polls every 10 ms for its file, then
 * flips a byte in it or deletes it, once. `done` resolves with the time it did.
 */
export function damageWhenWritten(root: string, id: string, how: 'flip' | 'delete'): { done: Promise<number>; cancel: () => void } {
  const file = artifactFile(root, id);
  let timer: NodeJS.Timeout | undefined;
  let cancel = (): void => undefined;
  const done = new Promise<number>((resolve, reject) => {
    cancel = () => {
      clearInterval(timer);
      reject(new Error(`artifact ${id} never appeared in ${root}`));
    };
    timer = setInterval(() => {
      if (!existsSync(file)) return;
      clearInterval(timer);
      if (how === 'flip') flipByte(file);
      else unlinkSync(file);
      resolve(Date.now());
    }, 10);
  });
  done.catch(() => undefined);
  return { done, cancel };
}
