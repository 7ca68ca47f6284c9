import { cifar10FilesPresent, resolveCifar10Dir, resolveDataset, timeInputPipeline } from '@ippro/data';
import { buildResNetCifar } from '@ippro/models';
import { initRuntime } from '@ippro/runtime';
import type { BackendName } from '@ippro/runtime';
import { trainEpochs } from '@ippro/training';
import type { StepProgress, TrainConfig } from '@ippro/training';

/** What one measuring process is asked to do. */
export interface TrainMeasurementRequest {
  backend: BackendName;
  processes: number;
  batch: number;
  warmupSteps: number;
  timedSteps: number;
  /** The CIFAR-10 directory, or undefined to train on clearly labelled synthetic data. */
  cifar10Dir?: string;
  seed: number;
}

export interface TrainMeasurement {
  backend: BackendName;
  processes: number;
  data: string;
  timedSteps: number;
  imagesPerSecond: number;
  stepMs: number;
  /** Per step: time the step waited for its input (with 2 processes, the slower one's). */
  inputMsPerStep: number;
  /** inputMsPerStep / stepMs. */
  inputShare: number;
  /** The pipeline alone (read, shuffle, augment, normalise, tensors) for a whole batch, ms. */
  pipelineAloneMsPerBatch: number;
}

/** The training data: real CIFAR-10 when the directory has it, else labelled synthetic images. */
export function trainDataSpec(request: Pick<TrainMeasurementRequest, 'batch' | 'warmupSteps' | 'timedSteps' | 'cifar10Dir'>): string {
  const samples = request.batch * (request.warmupSteps + request.timedSteps);
  return request.cifar10Dir === undefined ? `synthetic:cifar?n=${samples}&seed=1` : `cifar10:train[0:${samples}]`;
}

/**
 * Where real CIFAR-10 is, if anywhere: the given directory; else the shared copy beside the
 * workspace, then IPPRO_DATA_DIR or the cache.
 */
export function findCifar10(explicitDir: string | undefined, sharedDir: string): { dir?: string; reason?: string } {
  const candidates = explicitDir !== undefined ? [explicitDir] : [sharedDir, resolveCifar10Dir()];
  const dir = candidates.find((candidate) => cifar10FilesPresent(candidate));
  return dir !== undefined ? { dir } : { reason: `real CIFAR-10 not found in ${candidates.join(' or ')}` };
}

/**
 * ResNet-20 trained through the real epoch trainer (shuffle, pad-crop-flip, normalisation, SGD
 * with Nesterov momentum and weight decay) for warm-up plus timed steps of one epoch; only the
 * timed steps count. Runs in a process of its own: tfjs has one backend per process.
 */
export async function measureTraining(request: TrainMeasurementRequest): Promise<TrainMeasurement> {
  await initRuntime({ backend: request.backend });
  const spec = trainDataSpec(request);
  const resolve = request.cifar10Dir === undefined ? {} : { cifar10Dir: request.cifar10Dir };
  const train = resolveDataset(spec, resolve);
  const config: TrainConfig = {
    epochs: 1,
    batchSize: request.batch,
    seed: request.seed,
    augment: true,
    sgd: { learningRate: 0.1, momentum: 0.9, nesterov: true, weightDecay: 5e-4, labelSmoothing: 0 },
    schedule: { kind: 'cosine' },
    evalBatchSize: 250,
  };
  const steps: StepProgress[] = [];
  await trainEpochs({
    model: buildResNetCifar({ depth: 20, numClasses: 10, seed: request.seed }),
    train,
    config,
    ...(request.processes > 1 ? { parallel: { processes: request.processes, data: { spec, resolve } } } : {}),
    onEvent: (event) => {
      if (event.kind === 'step') steps.push(event);
    },
  });
  const timed = steps.slice(request.warmupSteps);
  const stepMs = timed.reduce((sum, step) => sum + step.stepMilliseconds, 0) / timed.length;
  const inputMsPerStep = timed.reduce((sum, step) => sum + step.inputMilliseconds, 0) / timed.length;
  const pipeline = timeInputPipeline(train, { batchSize: request.batch, batches: request.timedSteps, seed: request.seed, shuffle: true, augment: true, tensors: true });
  return {
    backend: request.backend,
    processes: request.processes,
    data: train.description,
    timedSteps: timed.length,
    imagesPerSecond: (1000 * request.batch) / stepMs,
    stepMs,
    inputMsPerStep,
    inputShare: inputMsPerStep / stepMs,
    pipelineAloneMsPerBatch: pipeline.millisecondsPerBatch,
  };
}
