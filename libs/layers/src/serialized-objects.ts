import { serialization } from '@tensorflow/tfjs-core';
import { initializers } from '@tensorflow/tfjs-layers';

/** An initializer, regularizer or constraint as a layer config holds it: `{ className, config }`. */
export interface SerializedObject {
  className: string;
  config: serialization.ConfigDict;
}

type Initializer = ReturnType<typeof initializers.zeros>;

/** tfjs and Keras spell the built-in initializers by these names in configs. */
const INITIALIZER_CLASSES: Readonly<Record<string, string>> = {
  zeros: 'Zeros',
  ones: 'Ones',
  glorotUniform: 'GlorotUniform',
  glorotNormal: 'GlorotNormal',
  heNormal: 'HeNormal',
  heUniform: 'HeUniform',
  leCunNormal: 'LeCunNormal',
  leCunUniform: 'LeCunUniform',
  randomNormal: 'RandomNormal',
  randomUniform: 'RandomUniform',
  truncatedNormal: 'TruncatedNormal',
  orthogonal: 'Orthogonal',
};

function isSerializable(value: unknown): value is serialization.Serializable {
  return typeof value === 'object' && value !== null && typeof (value as serialization.Serializable).getClassName === 'function';
}

function isSerializedObject(value: unknown): value is SerializedObject {
  const candidate = value as Partial<SerializedObject> | null;
  return typeof candidate === 'object' && candidate !== null && typeof candidate.className === 'string';
}

/** Builds a registered tfjs class (initializer, regularizer, constraint) from its serialized form. */
function fromRegistry<T>(serialized: SerializedObject, layerName: string, field: string): T {
  const entry = serialization.SerializationMap.getMap().classNameMap[serialized.className];
  if (entry === undefined) {
    throw new Error(`layer '${layerName}': ${field} names the unknown class '${serialized.className}'`);
  }
  const [cls, fromConfig] = entry;
  return fromConfig(cls, serialized.config ?? {}) as T;
}

/** A layer argument that may be an object, its serialized form, or (for initializers) a name. */
export type ObjectIdentifier<T> = T | SerializedObject | string | null | undefined;

/** The initializer an argument names; `fallback` (a class name) when absent. */
export function resolveInitializer(value: ObjectIdentifier<Initializer>, fallback: string, layerName: string, field: string): Initializer {
  if (isSerializable(value)) return value as Initializer;
  if (value === null || value === undefined) return fromRegistry({ className: fallback, config: {} }, layerName, field);
  if (typeof value === 'string') {
    const className = INITIALIZER_CLASSES[value] ?? value;
    return fromRegistry({ className, config: {} }, layerName, field);
  }
  if (isSerializedObject(value)) return fromRegistry(value, layerName, field);
  throw new Error(`layer '${layerName}': ${field} must be an initializer, its name or its serialized form`);
}

/** An optional regularizer or constraint: absent stays absent. */
export function resolveOptional<T>(value: ObjectIdentifier<T>, layerName: string, field: string): T | undefined {
  if (value === null || value === undefined) return undefined;
  if (isSerializable(value)) return value as T;
  if (isSerializedObject(value)) return fromRegistry<T>(value, layerName, field);
  throw new Error(`layer '${layerName}': ${field} must be given as an object or its serialized form { className, config }`);
}

/** The `{ className, config }` form a config stores, or null. */
export function serializeObject(value: serialization.Serializable | undefined): SerializedObject | null {
  if (value === undefined) return null;
  return { className: value.getClassName(), config: value.getConfig() };
}
