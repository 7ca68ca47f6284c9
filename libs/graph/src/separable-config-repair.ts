import type * as tf from '@tensorflow/tfjs-core';

/**
 * tfjs 4.22 leaves `depth_multiplier` out of a serialised SeparableConv2D, so such a layer with
 * a multiplier above 1 does not load back. The multiplier is the last axis of the layer's
 * depthwise kernel: write it into every SeparableConv2D config that lacks it (nested models
 * included). Mutates `topology`.
 */
export function repairSeparableDepthMultipliers(topology: unknown, weightSpecs: readonly tf.io.WeightsManifestEntry[]): void {
  const kernelShapes = new Map(weightSpecs.map((spec) => [spec.name, spec.shape]));
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) {
      value.forEach(visit);
      return;
    }
    if (typeof value !== 'object' || value === null) return;
    const record = value as Record<string, unknown>;
    const config = record['config'] as Record<string, unknown> | undefined;
    if (record['class_name'] === 'SeparableConv2D' && config !== undefined && config['depth_multiplier'] === undefined) {
      const shape = kernelShapes.get(`${String(config['name'])}/depthwise_kernel`);
      if (shape !== undefined && shape.length === 4) config['depth_multiplier'] = shape[3];
    }
    Object.values(record).forEach(visit);
  };
  visit(topology);
}
