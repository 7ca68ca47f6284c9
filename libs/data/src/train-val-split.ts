import { DataError } from './data-error';
import type { TrainValSplit } from './dataset-spec';
import type { LabeledDataset } from './labeled-dataset';
import { combineSeeds, SeededRandom } from './seeded-random';

/** Keeps the split's stream apart from the shuffle, augmentation and synthetic-data streams. */
const SPLIT_STREAM = 0x5b17;

/**
 * The dataset indices of one part of a train/validation split, in dataset order. Stratified: the
 * samples of each class are shuffled (Fisher-Yates, seeded by (seed, class)) and the first
 * round(fraction x count) go to 'val', so both parts keep the class proportions. Multi-hot data
 * is one group. A part left without samples is an error.
 */
export function trainValIndices(dataset: LabeledDataset, split: TrainValSplit): Uint32Array {
  const groups = new Map<number, number[]>();
  for (let index = 0; index < dataset.size; index += 1) {
    const group = dataset.multiHotLabel === undefined ? dataset.label(index) : 0;
    const members = groups.get(group);
    if (members === undefined) groups.set(group, [index]);
    else members.push(index);
  }
  const chosen: number[] = [];
  for (const [group, members] of groups) {
    const random = new SeededRandom(combineSeeds(SPLIT_STREAM, split.seed, group));
    for (let i = members.length - 1; i > 0; i -= 1) {
      const j = random.nextInt(i + 1);
      [members[i], members[j]] = [members[j] as number, members[i] as number];
    }
    const validation = Math.round(split.fraction * members.length);
    chosen.push(...(split.part === 'val' ? members.slice(0, validation) : members.slice(validation)));
  }
  if (chosen.length === 0) {
    throw new DataError('invalid-argument', `${dataset.description}: split=${split.part} with val=${split.fraction} leaves no samples of its ${dataset.size}`);
  }
  return Uint32Array.from(chosen).sort();
}
