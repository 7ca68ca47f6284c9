/** A model's BatchNormalization layers, in layer order: what recalibration, statistics snapshots and the untrained-model check read. */
export function batchNormalizationLayers<Layer extends { getClassName(): string }>(model: { layers: readonly Layer[] }): Layer[] {
  return model.layers.filter(isBatchNormalization);
}

export function isBatchNormalization(layer: { getClassName(): string }): boolean {
  return layer.getClassName() === 'BatchNormalization';
}
