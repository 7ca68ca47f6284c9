import { untrainedModelReason } from '@ippro/graph';
import type { LayersModel } from '@tensorflow/tfjs-layers';

/** What looks wrong with a model about to be scored; the run records them (summary.json or compare.json, and the report's notes). */
export function modelWarnings(model: LayersModel, modelDir: string): string[] {
  const reason = untrainedModelReason(model);
  return reason === undefined ? [] : [`model ${modelDir}: ${reason}`];
}

/** One line each on stderr, once the run has started (bad input, found before, is reported alone). */
export function printWarnings(warnings: readonly string[]): void {
  for (const warning of warnings) process.stderr.write(`ippro: warning: ${warning}\n`);
}
