import { randomBytes } from 'node:crypto';
import { readdir, rm, stat } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import { KerasBadInput } from './errors';

/** A new or empty directory: an import never overwrites earlier results. */
export async function checkNewDirectory(dir: string): Promise<void> {
  const existing = await stat(dir).catch(() => undefined);
  if (existing === undefined) return;
  if (!existing.isDirectory()) throw new KerasBadInput(`--out ${dir} exists and is not a directory`);
  if ((await readdir(dir)).length > 0) throw new KerasBadInput(`--out ${dir} is not empty; choose a new directory`);
}

/** A file that does not exist yet, in a directory that does. */
export async function checkNewFile(file: string): Promise<void> {
  if (await stat(file).then(() => true, () => false)) throw new KerasBadInput(`--out ${file} exists; choose a new file`);
  const parent = await stat(dirname(file)).catch(() => undefined);
  if (parent === undefined || !parent.isDirectory()) throw new KerasBadInput(`--out ${file}: the directory ${dirname(file)} does not exist`);
}

/** A name next to `target` for writing before the rename into place (same file system); keeps the extension. */
export function stagingPath(target: string): string {
  const extension = extname(target);
  return join(dirname(target), `.${basename(target, extension)}.partial-${randomBytes(4).toString('hex')}${extension}`);
}

export async function removeQuietly(path: string): Promise<void> {
  await rm(path, { recursive: true, force: true });
}
