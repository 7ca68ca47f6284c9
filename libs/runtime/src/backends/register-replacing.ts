import { engine, getKernel, KernelConfig, registerKernel, unregisterKernel } from '@tensorflow/tfjs-core';

/**
 * Registers a kernel, replacing one of the same name and backend. Idempotent, and
 * works before or after the backend has initialised.
 */
export function registerReplacing(config: KernelConfig): void {
  const current: KernelConfig | undefined = getKernel(config.kernelName, config.backendName);
  if (current === config) {
    return;
  }
  if (current !== undefined) {
    unregisterKernel(config.kernelName, config.backendName);
  }
  registerKernel(config);
  // The engine runs setup functions only when a backend is (re)selected, so a
  // backend that is already live must be set up here.
  const liveBackend = engine().registry[config.backendName];
  if (config.setupFunc !== undefined && liveBackend !== undefined) {
    config.setupFunc(liveBackend);
  }
}
