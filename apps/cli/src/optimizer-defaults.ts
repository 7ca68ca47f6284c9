import { OPTIMIZER_KINDS } from '@ippro/models';
import type { OptimizerKind } from '@ippro/models';

/** A learning rate and a weight decay for each optimizer: AdamW's usual ones are far from SGD's. */
export type OptimizerDefaults = Readonly<Record<OptimizerKind, Readonly<{ lr: number; weightDecay: number }>>>;

/** `ippro train`'s. */
export const TRAINING_DEFAULTS: OptimizerDefaults = {
  sgd: { lr: 0.1, weightDecay: 5e-4 },
  adamw: { lr: 1e-3, weightDecay: 0.05 },
};

/** A default that depends on the optimizer, as help shows it: "0.1 with sgd, 0.001 with adamw". */
export function byOptimizer(defaults: OptimizerDefaults, key: 'lr' | 'weightDecay'): string {
  return OPTIMIZER_KINDS.map((kind) => `${defaults[kind][key]} with ${kind}`).join(', ');
}
