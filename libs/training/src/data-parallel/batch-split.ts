import type { BatchPart } from '@ippro/data';

/**
 * Process `rank`'s part of a batch of `size` samples shared by `processes`: contiguous positions,
 * in rank order, part sizes differing by at most one (64 + 64 for 128 over two). The split depends
 * on nothing else, so every process computes the same one.
 */
export function batchPartOf(size: number, rank: number, processes: number): BatchPart {
  if (!Number.isInteger(processes) || processes < 1) throw new Error(`processes must be a positive integer, got ${processes}`);
  if (!Number.isInteger(rank) || rank < 0 || rank >= processes) throw new Error(`rank ${rank} is outside 0..${processes - 1}`);
  return { start: Math.floor((rank * size) / processes), end: Math.floor(((rank + 1) * size) / processes) };
}
