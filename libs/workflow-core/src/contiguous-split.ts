/** A half-open range of indices. */
export interface IndexRange {
  start: number;
  end: number;
}

/**
 * Splits `length` items into at most `parts` contiguous ranges, the earlier ones one item
 * longer when it does not divide evenly. The split depends only on the two numbers, so every
 * executor (one process or many workers) computes the same ranges.
 */
export function contiguousSplit(length: number, parts: number, what: string): IndexRange[] {
  if (!Number.isInteger(parts) || parts < 1) {
    throw new Error(`the ${what} count must be a positive integer, got ${parts}`);
  }
  const count = Math.min(parts, Math.max(length, 1));
  const base = Math.floor(length / count);
  const longer = length % count;
  const ranges: IndexRange[] = [];
  let start = 0;
  for (let part = 0; part < count; part += 1) {
    const end = start + base + (part < longer ? 1 : 0);
    ranges.push({ start, end });
    start = end;
  }
  return ranges;
}
