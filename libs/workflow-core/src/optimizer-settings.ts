/**
 * The optimizers of training and fine-tuning, and AdamW's settings with their ranges. They are
 * plain data here, below @ippro/models (which runs them), so that the workflows, which never load
 * TensorFlow.js, check a run's fine-tuning by the same rules the trainer applies.
 */

/** SGD with momentum (the default), or AdamW. */
export const OPTIMIZER_KINDS = ['sgd', 'adamw'] as const;
export type OptimizerKind = (typeof OPTIMIZER_KINDS)[number];

/** AdamW's own settings; the rate, the weight decay and label smoothing are the trainer's (@ippro/models' SgdSettings). */
export interface AdamWSettings {
  kind: 'adamw';
  /** Decay of the first moment, in [0, 1). */
  beta1: number;
  /** Decay of the second moment, in [0, 1). */
  beta2: number;
  /** Added to sqrt(v_hat) in the denominator, > 0. */
  epsilon: number;
}

/** torch.optim.AdamW's and Keras' defaults. */
export const ADAMW_DEFAULTS: Readonly<Omit<AdamWSettings, 'kind'>> = Object.freeze({ beta1: 0.9, beta2: 0.999, epsilon: 1e-8 });

/** A field of AdamW's settings AdamW cannot run with, and what it must be. */
export interface AdamWFault {
  field: keyof AdamWSettings;
  expected: string;
}

/** The first field AdamW cannot run with (each caller names it in its own terms), or undefined. */
export function adamwFault(settings: AdamWSettings): AdamWFault | undefined {
  if (settings.kind !== 'adamw') return { field: 'kind', expected: 'adamw' };
  for (const field of ['beta1', 'beta2'] as const) {
    const value = settings[field];
    if (!(Number.isFinite(value) && value >= 0 && value < 1)) return { field, expected: 'in [0, 1)' };
  }
  if (!(Number.isFinite(settings.epsilon) && settings.epsilon > 0)) return { field: 'epsilon', expected: 'a positive number' };
  return undefined;
}
