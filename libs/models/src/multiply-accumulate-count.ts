import type { LayersModel } from '@tensorflow/tfjs-layers';

interface KernelLayerLike {
  getClassName(): string;
  outputShape: unknown;
  getWeights(): { shape: number[] }[];
}

function product(values: readonly number[]): number {
  return values.reduce((acc, v) => acc * v, 1);
}

/** Spatial output positions times one output's MACs (kernel size without the output channels). */
function layerMacs(layer: KernelLayerLike): number {
  const className = layer.getClassName();
  if (className !== 'Conv2D' && className !== 'Dense') {
    return 0;
  }
  const kernelShape = layer.getWeights()[0].shape;
  const outputShape = (layer.outputShape as (number | null)[]).slice(1) as number[];
  const outputPositions = product(outputShape.slice(0, -1));
  return outputPositions * product(kernelShape);
}

/**
 * Multiply-accumulates of one forward pass for one example, counting only
 * Conv2D and Dense layers (batch norm, activations and pooling are negligible).
 */
export function countMultiplyAccumulates(model: LayersModel): number {
  return model.layers.reduce((total, layer) => total + layerMacs(layer as unknown as KernelLayerLike), 0);
}
