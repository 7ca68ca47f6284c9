/** One process's contribution: its values and how many samples they stand for. */
export interface WeightedPart {
  readonly weight: number;
  readonly values: Float32Array;
}

/**
 * Element-wise sum(weight_r * values_r) / sum(weight_r), accumulated in the order of `parts`
 * (rank order) in double precision, so every process that computes it gets the same bits.
 * Parts of weight 0 (an empty batch part) are left out.
 *
 * For the gradient of a mean loss this is exact: sample-count-weighted means of the part
 * gradients are the whole batch's gradient, SGD's L2 weight decay included (each part carries it
 * once; AdamW's decoupled decay is no part of the gradient).
 */
export function weightedAverage(parts: readonly WeightedPart[]): Float32Array {
  const used = parts.filter((part) => part.weight > 0);
  const first = used[0];
  if (first === undefined) throw new Error('no part with a positive weight to average');
  const length = first.values.length;
  const mismatch = used.find((part) => part.values.length !== length);
  if (mismatch !== undefined) throw new Error(`cannot average ${mismatch.values.length} values with ${length}`);
  const total = used.reduce((sum, part) => sum + part.weight, 0);
  const average = new Float32Array(length);
  for (let i = 0; i < length; i++) {
    let sum = 0;
    for (const part of used) sum += part.weight * (part.values[i] as number);
    average[i] = sum / total;
  }
  return average;
}
