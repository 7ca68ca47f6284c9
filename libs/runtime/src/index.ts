export { initRuntime, activeRuntime } from './backends/init-runtime';
export type { RuntimeInfo, RuntimeOptions } from './backends/init-runtime';
export {
  BACKEND_NAMES,
  BACKEND_REQUESTS,
  parseBackendRequest,
  RuntimeInitError,
} from './backends/backend-names';
export type { BackendName, BackendRequest } from './backends/backend-names';
export type { BackendLoader, BackendLoaders, LoadOutcome } from './backends/backend-loaders';
export { intraOpThreadsGiven, intraOpThreadsPerProcess } from './backends/backend-loaders';
export { registerWasmTrainingKernels } from './wasm/register-training-kernels';
export { registerNativeTrainingKernels, nativeTrainingKernels } from './native/register-native-training-kernels';
export { BACKEND_SETTINGS } from './backend-setting';
export { kernelFingerprint } from './kernel-fingerprint';
export type { KernelFingerprint, NumericPath } from './kernel-fingerprint';
