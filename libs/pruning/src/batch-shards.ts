import { contiguousSplit } from '@ippro/workflow-core';
import type { IndexRange } from '@ippro/workflow-core';

/** A half-open range of batch indices: the unit of sharded work over data. */
export type BatchRange = IndexRange;

export function batchShards(batchCount: number, shardCount: number): BatchRange[] {
  return contiguousSplit(batchCount, shardCount, 'batch shard');
}
