import { buildVit } from '@ippro/models';
import { IMAGE_SHAPE, NUM_CLASSES, trainingWorkload } from './workload';
import type { Workload } from './workload';

/**
 * The zoo's ViT with buildVit's defaults (what `ippro train --arch vit` trains: patch 4,
 * width 128, 6 pre-norm blocks of 4 heads, MLP 256, average pooling), compiled for SGD,
 * with one seeded random CIFAR-10 batch.
 */
export function createVitWorkload(batch: number, seed: number): Workload {
  return trainingWorkload(buildVit({ numClasses: NUM_CLASSES, inputShape: IMAGE_SHAPE, seed }), batch, seed);
}
