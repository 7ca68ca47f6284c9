import type { KernelTime } from './kernel-profile';
import { median } from './timing';
import type { NativeMeasurement, NativeOutcome } from './runtime-native';
import type { TorchMeasurement, TorchOutcome, WaitPolicy } from './runtime-torch';
import type { PairedOutcome, PairedTrain } from './runtime-paired';
import type { RuntimeModel } from './runtime-options';

/** tfjs on the native backend must train ResNet-20 at least this fraction of PyTorch's speed at equal threads. */
export const MIN_TFJS_OVER_PYTORCH_TRAIN_RATIO = 0.6;
/** Models with a floor on that ratio; the others' ratio is reported only. */
const TRAIN_RATIO_FLOORS: Partial<Record<RuntimeModel, number>> = { resnet20: MIN_TFJS_OVER_PYTORCH_TRAIN_RATIO };
const TOP_KERNELS = 12;

/** How the report names each model: its table's title and the start of its ratio lines. */
export const MODEL_LABELS: Record<RuntimeModel, { title: string; ratio: string }> = {
  resnet20: { title: 'ResNet-20', ratio: 'tfjs/pytorch train ratio' },
  vit: { title: 'ViT', ratio: 'vit tfjs/pytorch train ratio' },
};

export interface NativeRow {
  threads: number;
  kernels: 'ippro' | 'stock';
  trainableParameters: number;
  forwardImagesPerSec: number;
  trainImagesPerSec: number;
  /** From the fastest timed step: on a shared machine, the closest to an idle one. */
  bestTrainImagesPerSec: number;
  stepMs: number;
  stepCpuMs: number;
  /** Cores the training step kept busy on average: CPU time / wall time. */
  stepCores: number;
  kernelCount: number;
  topKernels: (KernelTime & { share: number })[];
}

export interface TorchRow {
  threads: number;
  torch: string;
  layout: 'nchw' | 'channels_last';
  waitPolicy: WaitPolicy;
  /** Trainable parameters of the PyTorch model. */
  parameters: number;
  blas: string;
  forwardImagesPerSec: number;
  trainImagesPerSec: number;
  bestTrainImagesPerSec: number;
  stepMs: number;
  stepCores: number;
}

export interface ThreadComparison {
  threads: number;
  /**
   * The headline ratio, which the floor applies to: tfjs' training speed over PyTorch's
   * from alternated single steps (see measurePairedTrain), else the ratio of medians.
   */
  ratio: number;
  ratioSource: 'paired steps' | 'medians';
  tfjsTrainImagesPerSec: number;
  /** The faster of PyTorch's two layouts. */
  pytorchTrainImagesPerSec: number;
  pytorchLayout: TorchRow['layout'];
  pytorchWaitPolicy: WaitPolicy;
  /** Median against median. */
  trainRatio: number;
  /** Median over alternated rounds of PyTorch's step time over tfjs' (undefined if not measured). */
  pairedTrainRatio?: number;
  /** Fastest step against fastest step. */
  bestTrainRatio: number;
  /**
   * PyTorch's CPU time per step over tfjs': the speed ratio if both had the cores to
   * themselves and used them equally well (robust to load from other jobs at 1 thread).
   */
  cpuTimeRatio: number;
  forwardRatio: number;
  /** Absent for a model without a floor. */
  meetsFloor?: boolean;
}

/** Trainable parameter counts of the two implementations, where measured. */
export interface ParameterCounts {
  tfjs?: number;
  pytorch?: number;
  /** False when both were counted and differ: then the two are not the same model and are not compared. */
  same: boolean;
}

export interface NativeComparison {
  model: RuntimeModel;
  parameters: ParameterCounts;
  native: NativeRow[];
  pytorch: TorchRow[];
  ratios: ThreadComparison[];
  paired: PairedTrain[];
  /** Why a part did not run (not installed, failed to load), by part and thread count. */
  skipped: string[];
  /** Absent for a model without a floor. */
  floor?: { minTfjsOverPytorchTrainRatio: number };
}

function topKernels(profile: KernelTime[]): (KernelTime & { share: number })[] {
  const total = profile.reduce((sum, k) => sum + k.ms, 0);
  return profile.slice(0, TOP_KERNELS).map((k) => ({ ...k, share: total > 0 ? k.ms / total : 0 }));
}

export function nativeRow(m: NativeMeasurement): NativeRow {
  return {
    threads: m.intraOpThreads,
    kernels: m.kernels,
    trainableParameters: m.trainableParameters,
    forwardImagesPerSec: (1000 * m.batch) / m.forwardMs,
    trainImagesPerSec: (1000 * m.batch) / m.stepMs,
    bestTrainImagesPerSec: (1000 * m.batch) / Math.min(...m.stepRunsMs),
    stepMs: m.stepMs,
    stepCpuMs: m.stepCpuMs,
    stepCores: m.stepCpuMs / m.stepMs,
    kernelCount: m.kernelCount,
    topKernels: topKernels(m.profile),
  };
}

export function torchRow(m: TorchMeasurement): TorchRow {
  return {
    threads: m.threads,
    torch: m.torch,
    layout: m.channels_last ? 'channels_last' : 'nchw',
    waitPolicy: m.waitPolicy,
    parameters: m.parameters,
    blas: m.blas,
    forwardImagesPerSec: m.forward.img_per_s,
    trainImagesPerSec: m.train.img_per_s,
    bestTrainImagesPerSec: m.train.best_img_per_s,
    stepMs: 1000 * m.train.median_s,
    stepCores: m.train.cpu_s / m.train.median_s,
  };
}

export interface ComparisonInputs {
  native: { threads: number; kernels: 'ippro' | 'stock'; outcome: NativeOutcome }[];
  pytorch: { threads: number; layout: TorchRow['layout']; waitPolicy: WaitPolicy; outcome: TorchOutcome }[];
  paired: { threads: number; outcome: PairedOutcome }[];
  /** Parts not run at all, with the reason. */
  notRun: string[];
}

/** Both sides' trainable parameter counts, from the first successful measurement of each. */
export function parameterCounts(native: NativeRow[], pytorch: TorchRow[]): ParameterCounts {
  const tfjs = native[0]?.trainableParameters;
  const peer = pytorch[0]?.parameters;
  return { ...(tfjs === undefined ? {} : { tfjs }), ...(peer === undefined ? {} : { pytorch: peer }), same: tfjs === undefined || peer === undefined || tfjs === peer };
}

function ratioAt(threads: number, native: NativeRow[], pytorch: TorchRow[], paired: PairedTrain | undefined, floor: number | undefined): ThreadComparison | undefined {
  const tfjs = native.find((row) => row.threads === threads && row.kernels === 'ippro');
  const peers = pytorch.filter((row) => row.threads === threads);
  if (tfjs === undefined || peers.length === 0) return undefined;
  const peer = peers.reduce((best, row) => (row.trainImagesPerSec > best.trainImagesPerSec ? row : best));
  const bestForward = Math.max(...peers.map((row) => row.forwardImagesPerSec));
  const bestTrain = Math.max(...peers.map((row) => row.bestTrainImagesPerSec));
  const trainRatio = tfjs.trainImagesPerSec / peer.trainImagesPerSec;
  const ratio = paired?.ratio ?? trainRatio;
  return {
    threads,
    ratio,
    ratioSource: paired === undefined ? 'medians' : 'paired steps',
    ...(paired === undefined ? {} : { pairedTrainRatio: paired.ratio }),
    tfjsTrainImagesPerSec: tfjs.trainImagesPerSec,
    pytorchTrainImagesPerSec: peer.trainImagesPerSec,
    pytorchLayout: peer.layout,
    pytorchWaitPolicy: peer.waitPolicy,
    trainRatio,
    bestTrainRatio: tfjs.bestTrainImagesPerSec / bestTrain,
    cpuTimeRatio: (peer.stepMs * peer.stepCores) / tfjs.stepCpuMs,
    forwardRatio: tfjs.forwardImagesPerSec / bestForward,
    ...(floor === undefined ? {} : { meetsFloor: ratio >= floor }),
  };
}

/** The rows, ratios and skipped parts of one model; no ratio when the two models' parameter counts differ. */
export function buildNativeComparison(model: RuntimeModel, inputs: ComparisonInputs, threads: number[]): NativeComparison {
  const skipped = [...inputs.notRun];
  const native: NativeRow[] = [];
  for (const { threads: count, kernels, outcome } of inputs.native) {
    if (outcome.ok) native.push(nativeRow(outcome.measurement));
    else skipped.push(`native (${kernels} kernels, ${count} thread${count === 1 ? '' : 's'}): ${outcome.why}`);
  }
  const pytorch: TorchRow[] = [];
  for (const { threads: count, layout, waitPolicy, outcome } of inputs.pytorch) {
    if (outcome.ok) pytorch.push(torchRow(outcome.measurement));
    else skipped.push(`pytorch (${layout}, ${waitPolicy} OpenMP wait, ${count} thread${count === 1 ? '' : 's'}): ${outcome.why}`);
  }
  const paired: PairedTrain[] = [];
  for (const { threads: count, outcome } of inputs.paired) {
    if (outcome.ok) paired.push(outcome.paired);
    else skipped.push(`paired steps (${count} thread${count === 1 ? '' : 's'}): ${outcome.why}`);
  }
  const parameters = parameterCounts(native, pytorch);
  if (!parameters.same) {
    skipped.push(
      `ratios: not computed, tfjs' ${MODEL_LABELS[model].title} has ${parameters.tfjs} trainable parameters and PyTorch's ${parameters.pytorch}, so they are not the same model`,
    );
  }
  const floor = TRAIN_RATIO_FLOORS[model];
  const ratios = parameters.same
    ? threads.flatMap(
        (count) =>
          ratioAt(
            count,
            native,
            pytorch,
            paired.find((entry) => entry.threads === count),
            floor,
          ) ?? [],
      )
    : [];
  return { model, parameters, native, pytorch, ratios, paired, skipped, ...(floor === undefined ? {} : { floor: { minTfjsOverPytorchTrainRatio: floor } }) };
}

function cells(values: (string | number)[], widths: number[]): string {
  return values.map((value, i) => String(value).padStart(widths[i] ?? 8)).join('  ');
}

function threadLabel(threads: number): string {
  return `${threads} thread${threads === 1 ? '' : 's'}`;
}

function count(value: number | undefined): string {
  return value === undefined ? 'not measured' : `${value}`;
}

function floorText(comparison: NativeComparison, ratio: ThreadComparison): string {
  if (comparison.floor === undefined) return 'no floor';
  return `floor >= ${comparison.floor.minTfjsOverPytorchTrainRatio} ${ratio.meetsFloor === true ? 'ok' : 'MISSED'}`;
}

export function formatNativeComparison(comparison: NativeComparison): string {
  const widths = [34, 8, 14, 12, 11, 9, 11, 6];
  const labels = MODEL_LABELS[comparison.model];
  const { parameters } = comparison;
  const lines = [
    `${labels.title}, SGD training step: tfjs native (libtensorflow) against PyTorch on the CPU (median images/s)`,
    `trainable parameters: tfjs ${count(parameters.tfjs)}, pytorch ${count(parameters.pytorch)}` +
      (parameters.tfjs === undefined || parameters.pytorch === undefined ? '' : parameters.same ? ' (equal)' : ' (DIFFERENT: not compared)'),
    cells(['', 'threads', 'forward img/s', 'train img/s', 'best train', 'step ms', 'step cores', 'ops'], widths),
    ...comparison.native.map((row) =>
      cells(
        [
          `tfjs native, ${row.kernels} kernels`,
          row.threads,
          row.forwardImagesPerSec.toFixed(0),
          row.trainImagesPerSec.toFixed(1),
          row.bestTrainImagesPerSec.toFixed(1),
          row.stepMs.toFixed(0),
          row.stepCores.toFixed(2),
          row.kernelCount,
        ],
        widths,
      ),
    ),
    ...comparison.pytorch.map((row) =>
      cells(
        [
          `pytorch ${row.torch}, ${row.layout}${row.waitPolicy === 'passive' ? ', passive' : ''}`,
          row.threads,
          row.forwardImagesPerSec.toFixed(0),
          row.trainImagesPerSec.toFixed(1),
          row.bestTrainImagesPerSec.toFixed(1),
          row.stepMs.toFixed(0),
          row.stepCores.toFixed(2),
          '',
        ],
        widths,
      ),
    ),
    '',
    ...comparison.ratios.map(
      (ratio) =>
        `${labels.ratio}: ${ratio.ratio.toFixed(2)} (${threadLabel(ratio.threads)}, from ${ratio.ratioSource}; ` +
        `${floorText(comparison, ratio)}; ` +
        `medians ${ratio.trainRatio.toFixed(2)} against pytorch ${ratio.pytorchLayout}${ratio.pytorchWaitPolicy === 'passive' ? ' passive' : ''}; best steps ${ratio.bestTrainRatio.toFixed(2)}; ` +
        `cpu time ${ratio.cpuTimeRatio.toFixed(2)}; forward ${ratio.forwardRatio.toFixed(2)})`,
    ),
    ...comparison.paired.map(
      (entry) =>
        `  paired steps, ${threadLabel(entry.threads)}: tfjs ${median(entry.tfjsStepMs).toFixed(0)} ms, pytorch nchw ` +
        `${median(entry.pytorchNchwStepMs).toFixed(0)} ms, channels_last ${median(entry.pytorchChannelsLastStepMs).toFixed(0)} ms (medians of ${entry.tfjsStepMs.length} rounds)`,
    ),
    ...comparison.skipped.map((reason) => `skipped: ${reason}`),
  ];
  for (const row of comparison.native) {
    lines.push('', `top kernels of one native ${labels.title} training step, ${row.kernels} kernels, ${threadLabel(row.threads)} (tf.profile):`);
    lines.push(...row.topKernels.map((k) => cells([k.kernel, k.ms.toFixed(1), `${k.calls} calls`, `${(100 * k.share).toFixed(1)}%`], [26, 10, 11, 7])));
  }
  return lines.join('\n');
}

/** Per layout, the OpenMP wait policy under which PyTorch trained faster at `threads`. */
export function fasterPolicies(pytorch: TorchRow[], threads: number): { nchw: WaitPolicy; channels_last: WaitPolicy } {
  const best = (layout: TorchRow['layout']): WaitPolicy => {
    const rows = pytorch.filter((row) => row.threads === threads && row.layout === layout);
    if (rows.length === 0) return 'default';
    return rows.reduce((a, b) => (b.trainImagesPerSec > a.trainImagesPerSec ? b : a)).waitPolicy;
  };
  return { nchw: best('nchw'), channels_last: best('channels_last') };
}
