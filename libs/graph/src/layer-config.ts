/** Typed reads of a layer's serialised config, with errors that name the layer and field. */
export type LayerConfig = Record<string, unknown>;

function fieldError(layerName: string, field: string, expected: string, value: unknown): Error {
  return new Error(`Layer "${layerName}": config field "${field}" should be ${expected}, got ${JSON.stringify(value)}`);
}

export function readPair(config: LayerConfig, field: string, layerName: string): [number, number] {
  const value = config[field];
  const pair = typeof value === 'number' ? [value, value] : value;
  if (!Array.isArray(pair) || pair.length !== 2 || !pair.every((v) => Number.isInteger(v) && v > 0)) {
    throw fieldError(layerName, field, 'a positive integer or a pair of them', value);
  }
  return [pair[0] as number, pair[1] as number];
}

export function readBoolean(config: LayerConfig, field: string, layerName: string): boolean {
  const value = config[field];
  if (typeof value !== 'boolean') throw fieldError(layerName, field, 'a boolean', value);
  return value;
}

export function readPositiveInteger(config: LayerConfig, field: string, layerName: string): number {
  const value = config[field];
  if (!Number.isInteger(value) || (value as number) <= 0) throw fieldError(layerName, field, 'a positive integer', value);
  return value as number;
}

/** The channel axis argument (BatchNormalization, Concatenate, Softmax); -1 when absent. */
export function readAxis(config: LayerConfig, field: string, layerName: string): number {
  const value = config[field] ?? -1;
  const axis = Array.isArray(value) && value.length === 1 ? value[0] : value;
  if (!Number.isInteger(axis)) throw fieldError(layerName, field, 'an integer axis', value);
  return axis as number;
}

/** Activation names are serialised as strings; anything else is treated as opaque. */
export function readActivation(config: LayerConfig): string | undefined {
  const value = config['activation'];
  return typeof value === 'string' ? value : undefined;
}
