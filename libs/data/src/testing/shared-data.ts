import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** The directory holding nx.json, found from this compiled file wherever the repo lives. */
export function workspaceRoot(from: string = __dirname): string {
  let dir = from;
  while (!existsSync(join(dir, 'nx.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no nx.json above ${from}`);
    dir = parent;
  }
  return dir;
}

/** The shared folder beside the workspace: ../shared. */
export function sharedDir(): string {
  return join(workspaceRoot(), '..', 'shared');
}

/** The real CIFAR-10 files, or undefined when this machine does not have them. */
export function sharedCifar10Dir(): string | undefined {
  const dir = join(sharedDir(), 'datasets', 'cifar10');
  const complete = ['data_batch_1.bin', 'data_batch_5.bin', 'test_batch.bin'].every((name) =>
    existsSync(join(dir, name)),
  );
  return complete ? dir : undefined;
}

export const CIFAR10_ABSENT_REASON = 'real CIFAR-10 not found at ../shared/datasets/cifar10';

/** A fresh temporary directory, removed by the returned function. */
export function temporaryDirectory(prefix: string): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), `ippro-data-${prefix}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}
