import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildTrainReport, formatTrainReport } from './train-report';
import type { TrainMeasurement } from './train-measurement';

function measurement(backend: 'wasm' | 'tensorflow', processes: number, imagesPerSecond: number, inputShare: number): TrainMeasurement {
  const stepMs = (1000 * 128) / imagesPerSecond;
  return { backend, processes, data: 'cifar10:train[0:1920]', timedSteps: 12, imagesPerSecond, stepMs, inputMsPerStep: inputShare * stepMs, inputShare, pipelineAloneMsPerBatch: 3 };
}

test('the report compares each backend with its one-process speed and checks the input floor', () => {
  const report = buildTrainReport([measurement('wasm', 1, 100, 0.01), measurement('wasm', 2, 180, 0.02), measurement('tensorflow', 1, 600, 0.02), measurement('tensorflow', 2, 550, 0.03)]);
  assert.deepEqual(report.rows.map((row) => Number(row.speedupOverOneProcess.toFixed(2))), [1, 1.8, 1, 0.92]);
  assert.deepEqual(report.fastest, { wasm: 2, tensorflow: 1 });
  assert.equal(report.inputShareBelowFloor, true);
  const text = formatTrainReport(report, 'real CIFAR-10');
  assert.match(text, /wasm\s+2\s+180\.0\s+1\.80x/);
  assert.match(text, /at most 3\.0% \(floor: below 10%: met\)/);
  assert.equal(buildTrainReport([measurement('wasm', 1, 100, 0.12)]).inputShareBelowFloor, false);
});
