import { engine, getKernel, mul, serialization, sub, Tensor, Tensor1D, tidy } from '@tensorflow/tfjs-core';
// Side effect: registers the layer classes, BatchNormalization among them.
import '@tensorflow/tfjs-layers';
import { FusedBatchNormV3 } from '../kernels/fused-batch-norm-v3';
import { fusedBatchNormTraining } from '../ops/fused-batch-norm-training';

interface LayerVariableLike {
  read(): Tensor;
  write(value: Tensor): unknown;
}

/**
 * The fields of tfjs-layers' BatchNormalization that its training-mode call reads
 * (private in its typings). Checked at run time: if a tfjs-layers version renames
 * them, the stock call runs.
 */
interface BatchNormalizationFields {
  axis: number;
  momentum: number;
  epsilon: number;
  gamma: LayerVariableLike | null;
  beta: LayerVariableLike | null;
  movingMean: LayerVariableLike;
  movingVariance: LayerVariableLike;
}

type LayerCall = (this: object, inputs: Tensor | Tensor[], kwargs: Record<string, unknown>) => Tensor | Tensor[];

interface LayerPrototype {
  call: LayerCall;
}

let stockCall: LayerCall | undefined;

function batchNormalizationPrototype(): LayerPrototype {
  const entry = serialization.SerializationMap.getMap().classNameMap['BatchNormalization'];
  const prototype = (entry?.[0] as { prototype?: Partial<LayerPrototype> } | undefined)?.prototype;
  if (typeof prototype?.call !== 'function') {
    throw new Error('tfjs-layers has no BatchNormalization layer class registered');
  }
  return prototype as LayerPrototype;
}

function isVariable(value: unknown): value is LayerVariableLike {
  const candidate = value as Partial<LayerVariableLike> | null | undefined;
  return typeof candidate?.read === 'function' && typeof candidate.write === 'function';
}

function fieldsOf(layer: object): BatchNormalizationFields | undefined {
  const fields = layer as Partial<BatchNormalizationFields>;
  const numbers = [fields.axis, fields.momentum, fields.epsilon].every((value) => typeof value === 'number');
  const variables = [fields.gamma, fields.beta, fields.movingMean, fields.movingVariance].every(isVariable);
  return numbers && variables ? (fields as BatchNormalizationFields) : undefined;
}

function singleInput(inputs: Tensor | Tensor[]): Tensor | undefined {
  if (!Array.isArray(inputs)) return inputs;
  return inputs.length === 1 ? inputs[0] : undefined;
}

/** The fused kernel covers float32 input normalised over every axis but the last. */
function normalisesLastAxis(fields: BatchNormalizationFields, input: Tensor): boolean {
  const axis = fields.axis < 0 ? fields.axis + input.rank : fields.axis;
  return input.dtype === 'float32' && input.rank >= 2 && axis === input.rank - 1;
}

/** As tfjs-layers updates the running statistics: value - (value - batch) * (1 - momentum). */
function updateMovingAverage(variable: LayerVariableLike, batchValue: Tensor, momentum: number): void {
  tidy(() => {
    const current = variable.read();
    variable.write(sub(current, mul(sub(current, batchValue), 1 - momentum)));
  });
}

function fusedTrainingCall(fields: BatchNormalizationFields, input: Tensor): Tensor {
  return tidy(() => {
    const { normalized, mean, variance } = fusedBatchNormTraining(
      input,
      (fields.gamma as LayerVariableLike).read() as Tensor1D,
      (fields.beta as LayerVariableLike).read() as Tensor1D,
      fields.epsilon,
    );
    updateMovingAverage(fields.movingMean, mean, fields.momentum);
    updateMovingAverage(fields.movingVariance, variance, fields.momentum);
    return normalized;
  });
}

/**
 * Makes tfjs-layers' BatchNormalization run in training mode as one FusedBatchNormV3
 * kernel (and its gradient as one FusedBatchNormGradV3) on backends that register it.
 * The stock layer composes tf.moments and tf.batchNorm, whose gradient is a chain of
 * some twenty element-wise kernels over the activation. Same values, same running
 * statistics; inference, other axes, other dtypes and other backends keep the stock call.
 * The layer class is the one hook point: its call decides how statistics are computed.
 */
export function installFusedBatchNormTraining(): void {
  if (stockCall !== undefined) return;
  const prototype = batchNormalizationPrototype();
  const stock = prototype.call;
  stockCall = stock;
  prototype.call = function (this: object, inputs, kwargs) {
    const training = kwargs['training'] == null ? false : kwargs['training'];
    const input = singleInput(inputs);
    const fields = fieldsOf(this);
    if (
      !training ||
      input === undefined ||
      fields === undefined ||
      !normalisesLastAxis(fields, input) ||
      getKernel(FusedBatchNormV3, engine().backendName) === undefined
    ) {
      return stock.call(this, inputs, kwargs);
    }
    return fusedTrainingCall(fields, input);
  };
}

/** Restores the stock BatchNormalization call (for comparisons against it). */
export function uninstallFusedBatchNormTraining(): void {
  if (stockCall === undefined) return;
  batchNormalizationPrototype().call = stockCall;
  stockCall = undefined;
}

export function fusedBatchNormTrainingInstalled(): boolean {
  return stockCall !== undefined;
}
