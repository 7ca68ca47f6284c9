import { buildResNetCifar } from '@ippro/models';
import { registerSurgeryPropertyTests } from './testing/property-tests';
import type { ModelBuilder } from './testing/surgery-properties';

// Properties of removeGroups on ResNet-20 (residual Adds tie channels across whole stages).
// 8x8 inputs: the topology and the weights are those of the CIFAR model, at a fraction of the cost.
const resnet20: ModelBuilder = (seed) => buildResNetCifar({ depth: 20, seed, inputShape: [8, 8, 3] });

registerSurgeryPropertyTests(resnet20, { zeroed: [1, 2], identity: 3, random: [4, 5, 6] });
