import { realpath } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, sep } from 'node:path';

/** The real path of `path` (symbolic links resolved) even when its last parts do not exist yet. */
async function realPathAllowingMissing(path: string): Promise<string> {
  const missing: string[] = [];
  let existing = path;
  for (;;) {
    try {
      return join(await realpath(existing), ...missing.reverse());
    } catch {
      const parent = dirname(existing);
      if (parent === existing) return path;
      missing.push(basename(existing));
      existing = parent;
    }
  }
}

/**
 * Checks a path a scheduled run names (its model, its output directory): absolute, and, when
 * the orchestrator restricts them, inside one of `allowedDirs` after links are resolved.
 * Returns the reason it is refused, or undefined.
 */
export async function refusedSchedulePath(path: string, field: string, allowedDirs: readonly string[] | undefined): Promise<string | undefined> {
  if (!isAbsolute(path)) return `${field} ${path} is not an absolute path`;
  if (allowedDirs === undefined) return undefined;
  const real = await realPathAllowingMissing(path);
  for (const dir of allowedDirs) {
    const root = await realPathAllowingMissing(dir);
    if (real === root || real.startsWith(root.endsWith(sep) ? root : `${root}${sep}`)) return undefined;
  }
  const allowed = allowedDirs.length === 0 ? 'none are allowed' : allowedDirs.join(', ');
  return `${field} ${path} is outside the directories this orchestrator lets scheduled runs use (--schedule-dirs: ${allowed})`;
}
