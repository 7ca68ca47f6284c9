import { lstat, mkdir, open, readdir, rename, rm, rmdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** An output directory that something else wrote to while the result was being made. */
export class OutputTakenError extends Error {
  override readonly name = 'OutputTakenError';
  constructor(
    message: string,
    /** The complete, fsynced result, kept where it was staged. */
    readonly keptAt: string,
  ) {
    super(message);
  }
}

export interface PublishOptions {
  /** Entries moved into an existing (empty) directory last, in this order: a reader that waits for them sees a complete result. */
  last?: readonly string[];
  /** fsync files and directories; default true (tests of other things may skip it). */
  fsync?: boolean;
}

/** The entry that claims an existing empty output directory while the result moves in. */
const CLAIM = '.ippro-publishing';
const STAGING_PATTERN = /^\.(.+)\.staging-(\d+)$/;

/** Where the result for `out` is staged: a hidden sibling, on the same file system (renames stay atomic). */
export function stagingDirOf(out: string, pid = process.pid): string {
  return join(dirname(out), `.${basename(out)}.staging-${pid}`);
}

async function syncPath(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** fsync every file under `dir`, then the directories, deepest first. */
async function syncTree(dir: string): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await syncTree(path);
    else if (entry.isFile()) await syncPath(path);
  }
  await syncPath(dir);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes staging directories of `out` left by processes that no longer run (a killed run);
 * those of running processes, this one's included, stay. Returns the removed paths.
 */
export async function removeStaleStaging(out: string): Promise<string[]> {
  const parent = dirname(out);
  const entries = await readdir(parent).catch(() => [] as string[]);
  const removed: string[] = [];
  for (const name of entries) {
    const match = STAGING_PATTERN.exec(name);
    if (match === null || match[1] !== basename(out)) continue;
    const pid = Number(match[2]);
    if (pid === process.pid || isAlive(pid)) continue;
    await rm(join(parent, name), { recursive: true, force: true });
    removed.push(join(parent, name));
  }
  return removed;
}

/** The entries of `dir`, or what it is instead of a directory. */
async function entriesOf(dir: string): Promise<string[] | 'absent' | 'not a directory'> {
  const found = await lstat(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  if (found === undefined) return 'absent';
  return found.isDirectory() ? readdir(dir) : 'not a directory';
}

function taken(out: string, staging: string, what: string): OutputTakenError {
  return new OutputTakenError(`${out} ${what} while the result was made; nothing in it was touched, and the complete result is kept in ${staging}`, staging);
}

/** Moves the staged entries into the existing empty `out`, claimed first so no other writer mixes its files in. */
async function moveInto(out: string, staging: string, options: PublishOptions): Promise<void> {
  try {
    await mkdir(join(out, CLAIM));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw taken(out, staging, 'is being written by another run');
    throw error;
  }
  try {
    const present = await readdir(out);
    if (present.length !== 1) throw taken(out, staging, 'was written to by something else');
    const last = options.last ?? [];
    const names = await readdir(staging);
    const ordered = [...names.filter((name) => !last.includes(name)).sort(), ...last.filter((name) => names.includes(name))];
    for (const name of ordered) await rename(join(staging, name), join(out, name));
  } finally {
    await rmdir(join(out, CLAIM)).catch(() => undefined);
  }
  if (options.fsync !== false) await syncPath(out);
  await rmdir(staging);
}

/**
 * Publishes a result directory safely. `write(dir)` fills a staging directory next to `out`
 * (a hidden sibling named after this process); its files and directories are fsynced; then it
 * is renamed to `out` when `out` does not exist, or its entries are moved into `out` when `out`
 * is an empty directory (which is used, never deleted: `last` entries go in last); the parent is
 * fsynced. `out` is never deleted or overwritten: if it holds anything by then (another run,
 * another program), OutputTakenError says so and the complete result stays in the staging
 * directory. A failure while writing removes the staging directory and is rethrown.
 */
export async function publishDirectory(out: string, write: (dir: string) => Promise<void>, options: PublishOptions = {}): Promise<string> {
  const staging = stagingDirOf(out);
  await mkdir(dirname(out), { recursive: true });
  await rm(staging, { recursive: true, force: true });
  try {
    await mkdir(staging);
    await write(staging);
    if (options.fsync !== false) await syncTree(staging);
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
  const present = await entriesOf(out);
  if (present === 'not a directory') throw taken(out, staging, 'became something other than a directory');
  if (present === 'absent') {
    try {
      await rename(staging, out);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOTEMPTY' || code === 'EEXIST' || code === 'ENOTDIR') throw taken(out, staging, 'was created by something else');
      throw error;
    }
  } else if (present.length === 0) {
    await moveInto(out, staging, options);
  } else {
    throw taken(out, staging, 'was written to by something else');
  }
  if (options.fsync !== false) await syncPath(dirname(out));
  return out;
}
