import { buildResNetCifar } from '@ippro/models';
import { NUM_CLASSES, trainingWorkload } from './workload';
import type { Workload } from './workload';

/** ResNet-20 for CIFAR-10, compiled for SGD, with one seeded random batch. */
export function createResNetWorkload(batch: number, seed: number): Workload {
  return trainingWorkload(buildResNetCifar({ depth: 20, numClasses: NUM_CLASSES, seed }), batch, seed);
}
