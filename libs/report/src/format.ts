import { numericPathText, phaseImagesPerSecond } from '@ippro/workflow-core';
import type { DatasetRef, DistillationConfig, FineTuneConfig, ModelOutputKind, ProscoreConfig, RecalibrationConfig, RoundMetrics, RunNumericPath, WorkPhase } from '@ippro/workflow-core';

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

/** The fine-tuning facts: steps of its optimizer (per round or per pruned model), schedule, distillation. */
export function fineTuneText(tune: Pick<FineTuneConfig, 'steps' | 'dataset' | 'learningRateSchedule' | 'distillation' | 'optimizer'> | undefined, per: string): string {
  if (tune === undefined || tune.steps === 0) return 'none';
  const optimizer = tune.optimizer === undefined ? 'SGD' : 'AdamW';
  return `${tune.steps} ${optimizer} steps ${per} on ${datasetText(tune.dataset)}, ${tune.learningRateSchedule ?? 'constant'} rate${distillationText(tune.distillation)}`;
}

/** The run's numeric path as a fact; none for a run that did not record one. */
export function numericPathFact(path: RunNumericPath | undefined): [string, string][] {
  return path === undefined ? [] : [['numeric path', numericPathText(path)]];
}

/** The caller's facts first; a fact of the run the caller already stated (by name) is left out. */
export function withCallerFacts(given: readonly [string, string][] | undefined, own: readonly [string, string][]): [string, string][] {
  const stated = new Set((given ?? []).map(([name]) => name));
  return [...(given ?? []), ...own.filter(([name]) => !stated.has(name))];
}

/** 75 -> "1:15", 4000 -> "1:06:40". */
export function formatDuration(seconds: number): string {
  const whole = Math.max(0, Math.round(seconds));
  const [h, m, s] = [Math.floor(whole / 3600), Math.floor(whole / 60) % 60, whole % 60];
  const two = (n: number): string => String(n).padStart(2, '0');
  return h > 0 ? `${h}:${two(m)}:${two(s)}` : `${m}:${two(s)}`;
}

const TIMED_WORK: readonly (readonly [WorkPhase, string])[] = [
  ['scoring', 'scoring img/s'],
  ['fine-tuning', 'fine-tune img/s'],
  ['evaluating', 'eval img/s'],
];

/** The columns of a rounds table that say how long each round took and how fast its work went (two runs of the same input differ only there). */
export const ROUND_TIMING_HEADERS: readonly string[] = ['wall time', ...TIMED_WORK.map(([, header]) => header)];

/** A round's cells under ROUND_TIMING_HEADERS ('-' where the round recorded no timing, or a phase did no work). */
export function roundTimingCells(round: RoundMetrics): string[] {
  return [
    round.timing === undefined ? '-' : formatDuration(round.timing.seconds),
    ...TIMED_WORK.map(([phase]) => {
      const rate = phaseImagesPerSecond(round.timing, phase);
      return rate === undefined ? '-' : rate.toFixed(0);
    }),
  ];
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
