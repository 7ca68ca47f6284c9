import { TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

/**
 * A second tensor over the same heap data, reference counted like Reshape's
 * output. Sound because tfjs never mutates a tensor's data in place, which is
 * also why the cpu backend's Identity and same-dtype Cast share data.
 */
export function shareData(x: TensorInfo, backend: BackendWasm): TensorInfo {
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}
