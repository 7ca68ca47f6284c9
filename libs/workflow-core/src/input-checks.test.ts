import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WORKFLOW_INPUT_LIMITS, checkPruneInput } from './input-checks';
import { ADAMW_DEFAULTS } from './optimizer-settings';
import type { PruneWorkflowInput } from './prune-types';

const MODEL = 'b'.repeat(64);
const ADAMW = { kind: 'adamw', ...ADAMW_DEFAULTS } as const;
const tuneWith = (fields: object) => ({ fineTune: { dataset: { spec: 'synthetic:cifar' }, batchSize: 8, steps: 1, learningRate: 1e-4, ...fields } });

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
    assert.doesNotThrow(() =>
      checkPruneInput(
        input({
          proscore: { reading: 'trajectory', order: 'descending', weightDecay: 5e-4, trajectory: { steps: 3, learningRate: 0.1, momentum: 0.9 } },
          recalibration: { dataset: { spec: 'cifar10:train', draw: { size: 100, seed: 2 } }, batchSize: 64, batches: 10 },
          fineTune: { dataset: { spec: 'synthetic:cifar' }, batchSize: 8, steps: 2, learningRate: 0.1, distillation: { weight: 1, temperature: 4 } },
        }),
      ),
    );
    assert.doesNotThrow(() => checkPruneInput(input(tuneWith({ optimizer: ADAMW, weightDecay: 0.05 }))));
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
    ['an AdamW beta1 of 1', tuneWith({ optimizer: { ...ADAMW, beta1: 1 } }), /^fineTune\.optimizer\.beta1 must be in \[0, 1\), got 1$/],
    ['an AdamW epsilon of 0', tuneWith({ optimizer: { ...ADAMW, epsilon: 0 } }), /^fineTune\.optimizer\.epsilon must be a positive number, got 0$/],
    ['an unknown optimizer kind', tuneWith({ optimizer: { ...ADAMW, kind: 'adam' } }), /^fineTune\.optimizer\.kind must be adamw, got 'adam'$/],
    ['SGD momentum beside AdamW', tuneWith({ optimizer: ADAMW, momentum: 0.9 }), /^fineTune\.momentum is a setting of SGD, not of fineTune\.optimizer adamw/],
    ['a zero heartbeat timeout', { activity: { heartbeatSeconds: 0 } }, /^activity\.heartbeatSeconds must be a positive integer, got 0$/],
    ['the trajectory over batch shards', { proscore: { reading: 'trajectory' }, shards: { batchShards: 2 } }, /^proscore\.reading 'trajectory' takes its optimizer steps over the scoring batches in order, one after the other, so it cannot be sharded: shards\.batchShards must be 1, got 2$/],
    ['the trajectory over layer shards', { proscore: { reading: 'trajectory' }, shards: { layerShards: 3 } }, /cannot be sharded: shards\.layerShards must be 1, got 3$/],
    ['trajectory settings without the trajectory', { proscore: { reading: 'per-batch', trajectory: { steps: 2 } } }, /^proscore\.trajectory is set, but proscore\.reading is 'per-batch', not 'trajectory'$/],
    ['a reading of another criterion', { criterion: 'l2', proscore: { order: 'descending' } }, /^proscore sets how PROscore is read, but the criterion is 'l2'$/],
    ['an unknown reading', { proscore: { reading: 'median' as 'pooled' } }, /^proscore\.reading must be one of pooled, per-batch, trajectory, got 'median'$/],
    ['weight decay with biases in F', { proscore: { weightDecay: 5e-4 }, scoring: { dataset: { spec: 'synthetic:cifar' }, batchSize: 8, includeBias: true } }, /^proscore\.weightDecay: the training objective decays kernels only/],
    ['a draw of no samples', { scoring: { dataset: { spec: 'cifar10:train', draw: { size: 0, seed: 1 } }, batchSize: 8 } }, /^scoring\.dataset\.draw\.size must be a positive integer, got 0$/],
    ['no recalibration batches', { recalibration: { dataset: { spec: 'cifar10:train' }, batchSize: 8, batches: 0 } }, /^recalibration\.batches must be a positive integer, got 0$/],
    [
      'distillation of a sigmoid output',
      { output: 'sigmoid', fineTune: { dataset: { spec: 'synthetic:cifar' }, batchSize: 8, steps: 1, learningRate: 0.1, distillation: { weight: 0.5, temperature: 2 } } },
      /^fineTune\.distillation needs a softmax output \(probabilities or logits\), but the model output is sigmoid/,
    ],
    ['a distillation weight of 0', { fineTune: { dataset: { spec: 'synthetic:cifar' }, batchSize: 8, steps: 1, learningRate: 0.1, distillation: { weight: 0, temperature: 2 } } }, /^fineTune\.distillation\.weight must be a weight in \(0, 1\], got 0$/],
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

  const tune = { dataset: { spec: 'synthetic:cifar' }, batchSize: 8, steps: 1, learningRate: 0.1 };
  const plan = { target: { metric: 'flops' as const, fraction: 0.5 }, rounds: 3 };
  const aboveLimits: [string, Partial<PruneWorkflowInput>, string, number][] = [
    ['scoring.batchSize', { scoring: { dataset: { spec: 'synthetic:cifar' }, batchSize: 65_537 } }, 'batchSize', 65_536],
    ['evaluation.batchSize', { evaluation: { dataset: { spec: 'cifar10:test' }, batchSize: 1e9 } }, 'batchSize', 65_536],
    ['fineTune.steps', { fineTune: { ...tune, steps: 1e12 } }, 'steps', 10_000_000],
    ['fineTune.replicas', { fineTune: { ...tune, replicas: 1025 } }, 'replicas', 1024],
    ['fineTune.repetitions', { fineTune: { ...tune, repetitions: 5000 } }, 'repetitions', 1000],
    ['plan.rounds', { plan: { ...plan, rounds: 1_000_000 } }, 'rounds', 100],
    ['shards.batchShards', { shards: { batchShards: 1e6 } }, 'shards', 4096],
    ['shards.layerShards', { shards: { layerShards: 4097 } }, 'shards', 4096],
    ['shards.evaluationShards', { shards: { evaluationShards: 4097 } }, 'shards', 4096],
    ['shards.maxParallel', { shards: { maxParallel: 1025 } }, 'maxParallel', 1024],
    ['activity.maximumAttempts', { activity: { maximumAttempts: 101 } }, 'attempts', 100],
    ['activity.heartbeatSeconds', { activity: { heartbeatSeconds: 1e9 } }, 'seconds', 604_800],
  ];
  for (const [field, overrides, limit, max] of aboveLimits) {
    it(`refuses ${field} above ${max}, naming the limit and where it is raised`, () => {
      assert.throws(() => checkPruneInput(input(overrides)), (error: Error) => {
        assert.equal(error.name, 'PruneInputError');
        assert.equal(error.message.split(', got ')[0], `${field} must be at most ${max}`);
        assert.match(error.message, new RegExp(`\\(the workflow's limit WORKFLOW_INPUT_LIMITS\\.${limit} in @ippro/workflow-core raises it\\)$`));
        return true;
      });
      assert.equal(WORKFLOW_INPUT_LIMITS[limit as keyof typeof WORKFLOW_INPUT_LIMITS], max);
    });
  }

  it('accepts every count at its limit', () => {
    const atLimits = input({
      scoring: { dataset: { spec: 'synthetic:cifar' }, batchSize: 65_536 },
      fineTune: { ...tune, steps: 10_000_000, replicas: 1024, repetitions: 1000 },
      plan: { ...plan, rounds: 100 },
      shards: { batchShards: 4096, layerShards: 4096, evaluationShards: 4096, maxParallel: 1024 },
      activity: { maximumAttempts: 100, heartbeatSeconds: 604_800, startToCloseSeconds: 604_800 },
    });
    assert.doesNotThrow(() => checkPruneInput(atLimits));
  });

  it('shortens a long value in its message', () => {
    assert.throws(() => checkPruneInput(input({ modelArtifactId: 'x'.repeat(500) })), (error: Error) => error.message.length < 200);
  });
});
