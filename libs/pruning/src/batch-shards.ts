import { contiguousSplit } from './contiguous-split';
import type { IndexRange } from './contiguous-split';

/** A half-open range of batch indices: the unit of sharded work over data. */
export type BatchRange = IndexRange;

export function batchShards(batchCount: number, shardCount: number): BatchRange[] {
  return contiguousSplit(batchCount, shardCount, 'batch shard');
}
