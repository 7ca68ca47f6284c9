import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { FineTuneCall } from '@ippro/compute-core';
import { loadProtocol } from '@ippro/protocol';
import type { protocol } from '@ippro/protocol';
import { fineTuneCallOf, fineTuneRequestOf } from './call-messages';

/** A call as the worker reads it: to a request, through the wire bytes, back to a call. */
function overTheWire(call: FineTuneCall): FineTuneCall {
  const method = loadProtocol().ippro.v1.WorkerService.service.FineTune;
  const request = method.requestDeserialize(method.requestSerialize(fineTuneRequestOf(call))) as protocol.FineTuneRequest__Output;
  return fineTuneCallOf(request);
}

const sgdCall: FineTuneCall = {
  jobId: 'run/round-1/replica-0',
  startModelArtifactId: 'a'.repeat(64),
  dataset: { spec: 'synthetic:cifar?n=20&seed=3&classes=4' },
  replica: { index: 1, count: 2 },
  batchSize: 4,
  steps: 3,
  firstStep: 2,
  optimizer: { learningRate: 0.05, momentum: 0.9, nesterov: true, weightDecay: 5e-4, labelSmoothing: 0.1, cosineDecay: { startStep: 2, steps: 6 } },
  seed: 9,
  augment: true,
  output: 'probabilities',
};

it('a FineTune call with SGD comes back from the wire as it was, with no AdamW', () => {
  assert.deepEqual(overTheWire(sgdCall), sgdCall);
});

it('a FineTune call with AdamW comes back from the wire with its betas and epsilon', () => {
  const call: FineTuneCall = {
    ...sgdCall,
    optimizer: { learningRate: 1e-4, momentum: 0, nesterov: false, weightDecay: 0.05, labelSmoothing: 0, adamw: { beta1: 0.85, beta2: 0.995, epsilon: 1e-7 } },
  };
  assert.deepEqual(overTheWire(call), call);
});
