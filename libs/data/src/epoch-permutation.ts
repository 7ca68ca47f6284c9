import { combineSeeds, SeededRandom } from './seeded-random';

/** Keeps the shuffle stream apart from the augmentation and synthetic-data streams. */
const SHUFFLE_STREAM = 0x5f1e;

let cached: { key: string; order: Uint32Array } | undefined;

/**
 * The sample order of one epoch: a Fisher-Yates shuffle of 0..size-1 seeded by (seed, epoch),
 * identical on every worker. Read-only: the array is shared with later calls for the same
 * (size, seed, epoch), since every batch of an epoch needs it.
 */
export function epochPermutation(size: number, seed: number, epoch: number): Readonly<Uint32Array> {
  const key = `${size}/${seed}/${epoch}`;
  if (cached?.key !== key) cached = { key, order: shuffledRange(size, seed, epoch) };
  return cached.order;
}

function shuffledRange(size: number, seed: number, epoch: number): Uint32Array {
  const order = new Uint32Array(size);
  for (let i = 0; i < size; i++) order[i] = i;
  const random = new SeededRandom(combineSeeds(SHUFFLE_STREAM, seed, epoch));
  for (let i = size - 1; i > 0; i--) {
    const j = random.nextInt(i + 1);
    const swap = order[i];
    order[i] = order[j];
    order[j] = swap;
  }
  return order;
}
