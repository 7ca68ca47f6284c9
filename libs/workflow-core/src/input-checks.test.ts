import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkPruneInput } from './input-checks';
import type { PruneWorkflowInput } from './prune-types';

const MODEL = 'b'.repeat(64);

function input(overrides: Partial<PruneWorkflowInput> = {}): PruneWorkflowInput {
  return {
    modelArtifactId: MODEL,
    criterion: 'proscore',
    scoring: { dataset: { spec: 'synthetic:cifar' }, batchSize: 8 },
    fineTune: { dataset: { spec: '', artifactId: 'c'.repeat(64) }, batchSize: 8, steps: 2, learningRate: 0.1 },
    evaluation: { dataset: { spec: 'cifar10:test' }, batchSize: 100 },
    plan: { target: { metric: 'flops', fraction: 0.5 }, rounds: 3, maxLayerRatio: 0.8, minChannels: 2 },
    seed: 0,
    ...overrides,
  };
}

describe('checkPruneInput', () => {
  it('accepts a complete input', () => {
    assert.doesNotThrow(() => checkPruneInput(input()));
    assert.doesNotThrow(() => checkPruneInput(input({ criterion: 'l1', scoring: undefined, fineTune: undefined, maxAccuracyDrop: 0 })));
  });

  const refusals: [string, Partial<PruneWorkflowInput>, RegExp][] = [
    ['a model id that is a path', { modelArtifactId: '../model.json' }, /^modelArtifactId must be a sha256 \(64 lowercase hex digits\), got '\.\.\/model\.json'$/],
    ['an unknown criterion', { criterion: 'magic' as 'l1' }, /^criterion must be one of proscore, l1, l2, taylor, taylor-batch, fisher, bn, group-norm, lamp, fpgm, random, got 'magic'$/],
    ['a gradient criterion without scoring data', { criterion: 'taylor', scoring: undefined }, /criterion 'taylor' scores from gradients and needs scoring data/],
    ['a per-batch gradient criterion without scoring data', { criterion: 'fisher', scoring: undefined }, /criterion 'fisher' scores from gradients and needs scoring data/],
    ['a zero lambda', { lambda: 0 }, /^lambda must be a positive number, got 0$/],
    ['a target fraction of 1', { plan: { target: { metric: 'flops', fraction: 1 }, rounds: 1 } }, /^plan\.target\.fraction must be a fraction strictly between 0 and 1, got 1$/],
    ['an unknown target metric', { plan: { target: { metric: 'latency' as 'flops', fraction: 0.5 }, rounds: 1 } }, /^plan\.target\.metric must be one of params, flops, channels/],
    ['an unknown schedule', { plan: { target: { metric: 'flops', fraction: 0.5 }, rounds: 1, schedule: 'cosine' as 'linear' } }, /^plan\.schedule must be one of linear, geometric/],
    ['a layer ratio above 1', { plan: { target: { metric: 'flops', fraction: 0.5 }, rounds: 1, maxLayerRatio: 1.5 } }, /^plan\.maxLayerRatio must be a fraction in \(0, 1\], got 1\.5$/],
    ['an accuracy budget of 1', { maxAccuracyDrop: 1 }, /^maxAccuracyDrop must be a fraction in \[0, 1\), got 1$/],
    ['a negative seed', { seed: -1 }, /^seed must be a non-negative integer, got -1$/],
    ['an unknown output kind', { output: 'softmax' as 'auto' }, /^output must be one of auto, probabilities, logits, sigmoid, got 'softmax'$/],
    ['an images: dataset spec (a folder path)', { scoring: { dataset: { spec: 'images:/data/train' }, batchSize: 8 } }, /^scoring\.dataset\.spec 'images:\/data\/train' names a file/],
    ['a json: dataset spec (a path)', { evaluation: { dataset: { spec: 'json:/data/x.json' }, batchSize: 8 } }, /^evaluation\.dataset\.spec 'json:\/data\/x\.json' names a file; send the data as a dataset artifact/],
    ['a dataset artifact id that is not a sha256', { evaluation: { dataset: { spec: '', artifactId: 'x.bin' }, batchSize: 8 } }, /^evaluation\.dataset\.artifactId must be a sha256/],
    ['an empty dataset reference', { evaluation: { dataset: { spec: ' ' }, batchSize: 8 } }, /^evaluation\.dataset\.spec must be a dataset spec when artifactId is not set/],
    ['a zero batch size', { scoring: { dataset: { spec: 'synthetic:cifar' }, batchSize: 0 } }, /^scoring\.batchSize must be a positive integer, got 0$/],
    ['a non-finite learning rate', { fineTune: { dataset: { spec: 'synthetic:cifar' }, batchSize: 8, steps: 1, learningRate: Number.POSITIVE_INFINITY } }, /^fineTune\.learningRate must be a positive number/],
    ['a momentum of 1', { fineTune: { dataset: { spec: 'synthetic:cifar' }, batchSize: 8, steps: 1, learningRate: 0.1, momentum: 1 } }, /^fineTune\.momentum must be in \[0, 1\), got 1$/],
    ['a zero heartbeat timeout', { activity: { heartbeatSeconds: 0 } }, /^activity\.heartbeatSeconds must be a positive integer, got 0$/],
  ];
  for (const [name, overrides, says] of refusals) {
    it(`refuses ${name}, naming the field`, () => {
      assert.throws(() => checkPruneInput(input(overrides)), (error: Error) => {
        assert.equal(error.name, 'PruneInputError');
        assert.match(error.message, says);
        return true;
      });
    });
  }

  it('shortens a long value in its message', () => {
    assert.throws(() => checkPruneInput(input({ modelArtifactId: 'x'.repeat(500) })), (error: Error) => error.message.length < 200);
  });
});
