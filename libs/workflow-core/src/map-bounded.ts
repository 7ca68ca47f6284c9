/**
 * Runs `work` on every item with at most `limit` calls in flight and returns the results in item
 * order, whatever order they finish in. Deterministic inside a Temporal workflow: it uses only
 * promises, and a workflow's promises settle in the order its history records.
 * The first failure rejects the whole map (calls already started are left to finish).
 */
export async function mapBounded<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T, index: number) => Promise<R>,
  onSettled?: (done: number, total: number) => void,
): Promise<R[]> {
  if (!Number.isInteger(limit) || limit < 1) throw new Error(`the parallelism limit must be a positive integer, got ${limit}`);
  const results = new Array<R>(items.length);
  let next = 0;
  let done = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const index = next;
      next += 1;
      results[index] = await work(items[index] as T, index);
      done += 1;
      onSettled?.(done, items.length);
    }
  };
  const lanes: Promise<void>[] = [];
  for (let i = 0; i < Math.min(limit, items.length); i += 1) lanes.push(lane());
  await Promise.all(lanes);
  return results;
}
