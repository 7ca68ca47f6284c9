import type { DatasetRef, DistillationConfig, FineTuneConfig, ModelOutputKind, ProscoreConfig, RecalibrationConfig } from '@ippro/workflow-core';

/** 0.7305 -> "73.05%". */
export function percent(fraction: number): string {
  return `${(fraction * 100).toFixed(2)}%`;
}

export function lossText(loss: number | undefined): string {
  return loss === undefined ? '-' : loss.toFixed(4);
}

export function datasetText(ref: DatasetRef | undefined): string {
  if (ref === undefined) return '-';
  const named = ref.spec !== '' ? ref.spec : `dataset artifact ${(ref.artifactId ?? '').slice(0, 12)}`;
  return ref.draw === undefined ? named : `${ref.draw.size} samples of ${named} drawn by seed ${ref.draw.seed}`;
}

/** How PROscore was read: `pooled, ascending` by default. */
export function readingText(proscore: ProscoreConfig | undefined): string {
  const reading = proscore?.reading ?? 'pooled';
  const trajectory = proscore?.trajectory;
  const steps = reading !== 'trajectory' ? '' : ` (${trajectory?.steps ?? 'every'} step(s) over the scoring batches${trajectory?.learningRate === undefined ? '' : `, learning rate ${trajectory.learningRate}`}, momentum ${trajectory?.momentum ?? 0.9})`;
  const decay = proscore?.weightDecay === undefined ? '' : `, weight decay ${proscore.weightDecay} in the loss`;
  return `${reading}${steps}, ${proscore?.order ?? 'ascending'}${decay}`;
}

export function recalibrationText(recalibration: RecalibrationConfig | undefined): string {
  if (recalibration === undefined) return 'none';
  return `after surgery: ${recalibration.batches} batches of ${recalibration.batchSize} from ${datasetText(recalibration.dataset)}, batch norm in training mode`;
}

function distillationText(distillation: DistillationConfig | undefined): string {
  return distillation === undefined ? '' : `, distilling from the input model (weight ${distillation.weight}, temperature ${distillation.temperature})`;
}

/** The fine-tuning facts: steps (per round or per pruned model), schedule, distillation. */
export function fineTuneText(tune: Pick<FineTuneConfig, 'steps' | 'dataset' | 'learningRateSchedule' | 'distillation'> | undefined, per: string): string {
  if (tune === undefined || tune.steps === 0) return 'none';
  return `${tune.steps} SGD steps ${per} on ${datasetText(tune.dataset)}, ${tune.learningRateSchedule ?? 'constant'} rate${distillationText(tune.distillation)}`;
}

/** The caller's facts first; a fact of the run the caller already stated (by name) is left out. */
export function withCallerFacts(given: readonly [string, string][] | undefined, own: readonly [string, string][]): [string, string][] {
  const stated = new Set((given ?? []).map(([name]) => name));
  return [...(given ?? []), ...own.filter(([name]) => !stated.has(name))];
}

/** The model's output kind as the report states it, with the loss it picked and what its accuracy counts. */
export function outputText(output: ModelOutputKind | undefined): string {
  switch (output) {
    case 'probabilities':
      return 'probabilities (softmax): categorical cross-entropy, top-1';
    case 'logits':
      return 'logits: softmax cross-entropy, top-1';
    case 'sigmoid':
      return 'sigmoid: binary cross-entropy per unit, exact match at 0.5';
    default:
      return 'auto (read from the model)';
  }
}
