import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { resolveDataset } from '@ippro/data';
import { ADAMW_DEFAULTS, buildMlp, buildSmallCnn } from '@ippro/models';
import type { BackendName } from '@ippro/runtime';
import { readCheckpoint } from './checkpoint';
import type { EpochRecord } from './checkpoint';
import { trainEpochs } from './epoch-trainer';
import type { TrainEvent } from './epoch-trainer';
import type { TrainConfig } from './train-config';
import { batchPartOf } from './data-parallel/batch-split';
import { weightedAverage } from './data-parallel/weighted-average';
import { defaultProcessCount } from './data-parallel/process-count';

const scratch = mkdtempSync(join(tmpdir(), 'ippro-parallel-'));
process.on('exit', () => rmSync(scratch, { recursive: true, force: true }));

before(async () => {
  await tf.setBackend('cpu');
});

const trainSpec = 'synthetic:cifar?n=24&seed=1&classes=4';
const train = resolveDataset(trainSpec);
const held = resolveDataset('synthetic:cifar?n=8&seed=2&classes=4');
// 24 samples in batches of 7: the last batch (3) splits 1 + 2, so the weighting matters.
const config: TrainConfig = {
  epochs: 2,
  batchSize: 7,
  seed: 3,
  augment: true,
  sgd: { learningRate: 0.05, momentum: 0.9, nesterov: true, weightDecay: 5e-4, labelSmoothing: 0.1 },
  schedule: { kind: 'cosine', warmupEpochs: 0.5 },
  evalBatchSize: 5,
};
const parallel = { processes: 2, data: { spec: trainSpec } };
const mlp = (): LayersModel => buildMlp({ hiddenUnits: [12], numClasses: 4, batchNorm: false, seed: 5 });
const cnn = (): LayersModel => buildSmallCnn({ stages: [[4], [8]], numClasses: 4, seed: 11 });

function weights(model: LayersModel): Float32Array[] {
  return model.getWeights().map((tensor) => tensor.dataSync() as Float32Array);
}

/** Pids of this process's children running the replica script (from /proc). */
function replicaPids(): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        return parent === process.pid && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('replica-process');
      } catch {
        return false;
      }
    })
    .map(Number);
}

test('batch parts are contiguous, in rank order, and cover the batch', () => {
  assert.deepEqual([0, 1].map((rank) => batchPartOf(128, rank, 2)), [{ start: 0, end: 64 }, { start: 64, end: 128 }]);
  assert.deepEqual([0, 1, 2].map((rank) => batchPartOf(7, rank, 3)), [{ start: 0, end: 2 }, { start: 2, end: 4 }, { start: 4, end: 7 }]);
  assert.deepEqual([0, 1].map((rank) => batchPartOf(1, rank, 2)), [{ start: 0, end: 0 }, { start: 0, end: 1 }]);
  assert.throws(() => batchPartOf(8, 2, 2), /rank 2 is outside 0\.\.1/);
});

test('two processes by default on wasm and tensorflow with 2+ cores', () => {
  const backends: BackendName[] = ['wasm', 'tensorflow', 'tensorflow-gpu', 'cpu'];
  assert.deepEqual(backends.map((backend) => defaultProcessCount(backend, 2)), [2, 2, 1, 1]);
  assert.equal(defaultProcessCount('wasm', 1), 1);
});

test('the weighted average counts each part by its samples and skips empty parts', () => {
  const average = weightedAverage([
    { weight: 1, values: Float32Array.of(1, 10) },
    { weight: 3, values: Float32Array.of(5, 2) },
    { weight: 0, values: new Float32Array(0) },
  ]);
  assert.deepEqual(Array.from(average), [4, 4]);
  assert.throws(() => weightedAverage([{ weight: 0, values: new Float32Array(0) }]), /no part with a positive weight/);
});

test('two processes train a model without batch norm like one process with the same global batch', async () => {
  const alone = mlp();
  const single = await trainEpochs({ model: alone, train, evaluation: held, config });
  const shared = mlp();
  const events: TrainEvent[] = [];
  const split = await trainEpochs({ model: shared, train, evaluation: held, config, parallel, onEvent: (event) => events.push(event) });
  assert.equal(split.step, single.step);
  const expected = weights(alone);
  weights(shared).forEach((values, i) => {
    const reference = expected[i] as Float32Array;
    const worst = values.reduce((max, value, k) => Math.max(max, Math.abs(value - (reference[k] as number))), 0);
    assert.ok(worst < 1e-5, `weight ${i} differs by ${worst}`);
  });
  split.history.forEach((record, i) => {
    assert.ok(Math.abs(record.trainLoss - (single.history[i]?.trainLoss ?? 0)) < 1e-5);
    assert.equal(record.trainAccuracy, single.history[i]?.trainAccuracy);
    assert.equal(record.evalAccuracy, single.history[i]?.evalAccuracy);
  });
  const steps = events.filter((event) => event.kind === 'step');
  assert.equal(steps.length, 8);
  assert.ok(steps.every((event) => event.kind === 'step' && event.inputMilliseconds >= 0 && event.stepMilliseconds >= event.inputMilliseconds));
  assert.deepEqual(replicaPids(), [], 'the training processes are gone');
});

test('with AdamW, two processes train like one; the replicas hand over identical moments', async () => {
  const adamw: TrainConfig = { ...config, sgd: { learningRate: 0.01, weightDecay: 0.05, labelSmoothing: 0.1 }, optimizer: { kind: 'adamw', ...ADAMW_DEFAULTS } };
  const alone = mlp();
  await trainEpochs({ model: alone, train, config: adamw, checkpointDir: join(scratch, 'adamw-one', 'checkpoint') });
  const shared = mlp();
  // Each epoch ends by comparing the replicas' weights (a digest): training fails if they differ.
  await trainEpochs({ model: shared, train, config: adamw, parallel, checkpointDir: join(scratch, 'adamw-two', 'checkpoint') });
  const closeTo = (actual: readonly Float32Array[], expected: readonly Float32Array[], what: string) =>
    actual.forEach((values, i) => {
      const reference = expected[i] as Float32Array;
      const worst = values.reduce((max, value, k) => Math.max(max, Math.abs(value - (reference[k] as number))), 0);
      assert.ok(worst < 1e-5, `${what} ${i} differs by ${worst}`);
    });
  closeTo(weights(shared), weights(alone), 'weight');
  const [one, two] = await Promise.all(['adamw-one', 'adamw-two'].map((name) => readCheckpoint(join(scratch, name, 'checkpoint'))));
  const buffers = (checkpoint: typeof one) => [...(checkpoint?.optimizer.momentum ?? []), ...(checkpoint?.optimizer.velocity ?? [])].map((entry) => entry.tensor.dataSync() as Float32Array);
  assert.equal(two?.optimizer.velocity?.length, shared.trainableWeights.length);
  assert.equal(two?.state.optimizer.iterations, one?.state.optimizer.iterations);
  closeTo(buffers(two), buffers(one), 'moment');
});

test('two-process training with batch norm is deterministic, and its checkpoint resumes in one process', async () => {
  const runs = [];
  for (const name of ['first', 'second']) {
    const model = cnn();
    const dir = join(scratch, name, 'checkpoint');
    const result = await trainEpochs({ model, train, evaluation: held, config, parallel, checkpointDir: dir, stopAfterEpochs: 1 });
    runs.push({ model, result, dir });
  }
  const [first, second] = runs;
  if (first === undefined || second === undefined) throw new Error('two runs expected');
  assert.deepEqual(weights(second.model), weights(first.model), 'bit-identical across runs');
  const withoutTimes = (records: readonly EpochRecord[]) => records.map((record) => ({ ...record, imagesPerSecond: 0, seconds: 0 }));
  assert.deepEqual(withoutTimes(second.result.history), withoutTimes(first.result.history));
  const checkpoint = await readCheckpoint(first.dir);
  assert.equal(checkpoint.state.processes, 2);
  assert.deepEqual(weights(checkpoint.model), weights(first.model), 'the checkpoint holds the coordinator weights');
  const resumed = await trainEpochs({ model: checkpoint.model, train, config, resume: checkpoint, checkpointDir: first.dir });
  assert.deepEqual([resumed.epochsDone, resumed.complete], [2, true]);
});

test('a training process that dies ends the run with an error naming it', async () => {
  let killed = 0;
  const run = trainEpochs({
    model: cnn(),
    train,
    config: { ...config, epochs: 3 },
    parallel,
    onEvent: (event) => {
      if (event.kind === 'step' && event.step === 2) {
        const [victim] = replicaPids();
        if (victim !== undefined) {
          killed = victim;
          process.kill(victim, 'SIGKILL');
        }
      }
    },
  });
  await assert.rejects(run, /training process [12] of 2 \(pid \d+\) exited unexpectedly \(signal SIGKILL\)/);
  assert.ok(killed > 0);
  assert.deepEqual(replicaPids(), [], 'the other process was stopped');
});

test('training processes that cannot open the same data refuse to start', async () => {
  const other = { processes: 2, data: { spec: 'synthetic:cifar?n=16&seed=1&classes=4' } };
  await assert.rejects(
    trainEpochs({ model: cnn(), train, config, parallel: other }),
    /training process [12] of 2 \(pid \d+\) failed: synthetic:cifar\?n=16&seed=1&classes=4 opened as .* \(16 samples\), not synthetic:cifar\?n=24&seed=1&classes=4 \(24\)/,
  );
  assert.deepEqual(replicaPids(), []);
});
