import type { DataType, Tensor, TensorInfo } from '@tensorflow/tfjs-core';

/** The tfjs backend name of both `@tensorflow/tfjs-node` and `@tensorflow/tfjs-node-gpu`. */
export const NATIVE_BACKEND = 'tensorflow';

/** One attribute of a TensorFlow op, in the form the tfjs-node binding takes it. */
export interface OpAttr {
  name: string;
  type: number;
  value: number | number[] | string | boolean;
}

/** The attribute-type and dtype enums of the tfjs-node binding (TF_ATTR_*, TF_*). */
interface TensorflowEnums {
  TF_ATTR_TYPE: number;
  TF_ATTR_FLOAT: number;
  TF_ATTR_BOOL: number;
  TF_ATTR_STRING: number;
  TF_ATTR_INT: number;
  TF_FLOAT: number;
  TF_INT32: number;
}

/**
 * The part of tfjs-node's NodeJSKernelBackend that runs one TensorFlow op by name
 * (TFE_Execute): its kernels are written with exactly these two calls.
 */
export interface NativeBackend {
  binding: TensorflowEnums;
  executeSingleOutput(name: string, attrs: OpAttr[], inputs: TensorInfo[]): Tensor;
  executeMultipleOutputs(name: string, attrs: OpAttr[], inputs: TensorInfo[], numOutputs: number): Tensor[];
}

function isNativeBackend(backend: unknown): backend is NativeBackend {
  const candidate = backend as Partial<NativeBackend> | null;
  return (
    typeof candidate?.executeSingleOutput === 'function' &&
    typeof candidate.executeMultipleOutputs === 'function' &&
    typeof candidate.binding?.TF_ATTR_TYPE === 'number'
  );
}

export function asNativeBackend(backend: unknown): NativeBackend {
  if (!isNativeBackend(backend)) {
    throw new Error(`kernel needs the '${NATIVE_BACKEND}' backend of @tensorflow/tfjs-node`);
  }
  return backend;
}

/** The `T`-style dtype attribute; the native training kernels are float32 only. */
export function floatTypeAttr(backend: NativeBackend, name: string, dtype: DataType): OpAttr {
  if (dtype !== 'float32') {
    throw new Error(`native training kernels take float32 tensors, got ${dtype}`);
  }
  return { name, type: backend.binding.TF_ATTR_TYPE, value: backend.binding.TF_FLOAT };
}

export function floatAttr(backend: NativeBackend, name: string, value: number): OpAttr {
  return { name, type: backend.binding.TF_ATTR_FLOAT, value };
}

export function boolAttr(backend: NativeBackend, name: string, value: boolean): OpAttr {
  return { name, type: backend.binding.TF_ATTR_BOOL, value };
}

export function stringAttr(backend: NativeBackend, name: string, value: string): OpAttr {
  return { name, type: backend.binding.TF_ATTR_STRING, value };
}

export function intListAttr(backend: NativeBackend, name: string, value: number[]): OpAttr {
  return { name, type: backend.binding.TF_ATTR_INT, value };
}
