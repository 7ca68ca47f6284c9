import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { classificationLoss, perSampleDistillationLoss } from './loss';
import { buildMlp } from './mlp';
import { SgdTrainer } from './training/sgd-training';

const EPSILON = 1e-7;

/**
 * T^2 KL(softmax(z_t / T) || softmax(z_s / T)), row by row, in float64: z = log(clip(p)) for
 * probabilities, the rows themselves for logits.
 */
function distillationFloat64(student: number[][], teacher: number[][], temperature: number, output: 'probabilities' | 'logits' = 'probabilities'): number[] {
  const logitOf = (value: number): number => (output === 'logits' ? value : Math.log(Math.min(Math.max(value, EPSILON), 1 - EPSILON)));
  const softened = (row: number[]): number[] => {
    const z = row.map((value) => logitOf(value) / temperature);
    const top = Math.max(...z);
    const total = z.reduce((sum, value) => sum + Math.exp(value - top), 0);
    return z.map((value) => Math.exp(value - top) / total);
  };
  return student.map((row, index) => {
    const q = softened(row);
    const p = softened(teacher[index] ?? []);
    return temperature * temperature * p.reduce((sum, pc, c) => sum + pc * (Math.log(pc) - Math.log(q[c] ?? Number.NaN)), 0);
  });
}

/** Rows of random probabilities (softmax of seeded logits), one of them with a probability below the clip. */
function probabilities(seed: number): number[][] {
  const logits = tf.randomNormal([5, 4], 0, 3, 'float32', seed);
  const rows = tf.softmax(logits).arraySync() as number[][];
  logits.dispose();
  rows[0] = [1 - 3e-9, 1e-9, 1e-9, 1e-9];
  return rows;
}

before(async () => {
  await tf.setBackend('cpu');
});

describe('perSampleDistillationLoss', () => {
  it('equals T^2 KL of the temperature-softened clipped log-probabilities, computed in float64', () => {
    const student = probabilities(1);
    const teacher = probabilities(2);
    for (const temperature of [1, 2, 4]) {
      const ours = perSampleDistillationLoss(tf.tensor2d(student), tf.tensor2d(teacher), temperature).arraySync();
      const expected = distillationFloat64(student, teacher, temperature);
      expected.forEach((value, index) => {
        const got = ours[index] ?? Number.NaN;
        assert.ok(Math.abs(got - value) <= 1e-5 * Math.max(1, Math.abs(value)), `T ${temperature}, sample ${index}: ${got} vs ${value}`);
      });
    }
  });

  it('is 0 when the student outputs what the teacher does, and positive otherwise', () => {
    const teacher = tf.tensor2d(probabilities(3));
    assert.ok(Math.max(...perSampleDistillationLoss(teacher, teacher, 2).arraySync().map(Math.abs)) < 1e-6);
    const [same, ...others] = perSampleDistillationLoss(tf.tensor2d(probabilities(4)), teacher, 2).arraySync();
    assert.ok(Math.abs(same ?? Number.NaN) < 1e-6, 'row 0 is the same clipped row in both');
    assert.ok(others.every((value) => value > 0));
  });

  it('reads logits as they are: the float64 computation, and the same value as the probabilities they give', () => {
    const logits = [tf.randomNormal([5, 4], 0, 3, 'float32', 6).arraySync() as number[][], tf.randomNormal([5, 4], 0, 3, 'float32', 7).arraySync() as number[][]];
    const [student, teacher] = logits as [number[][], number[][]];
    const temperature = 2;
    const ours = perSampleDistillationLoss(tf.tensor2d(student), tf.tensor2d(teacher), temperature, 'logits').arraySync();
    const throughProbabilities = perSampleDistillationLoss(tf.softmax(tf.tensor2d(student)), tf.softmax(tf.tensor2d(teacher)), temperature, 'probabilities').arraySync();
    distillationFloat64(student, teacher, temperature, 'logits').forEach((value, index) => {
      const got = ours[index] ?? Number.NaN;
      assert.ok(Math.abs(got - value) <= 1e-5 * Math.max(1, Math.abs(value)), `sample ${index}: ${got} vs ${value}`);
      const viaSoftmax = throughProbabilities[index] ?? Number.NaN;
      assert.ok(Math.abs(viaSoftmax - value) <= 1e-4 * Math.max(1, Math.abs(value)), `sample ${index} through softmax: ${viaSoftmax} vs ${value}`);
    });
  });

  it('refuses a sigmoid output, naming why', () => {
    const outputs = tf.tensor2d([[0.2, 0.9]]);
    assert.throws(() => perSampleDistillationLoss(outputs, outputs, 2, 'sigmoid'), /distillation needs a softmax output \(probabilities or logits\): a sigmoid output/);
  });

  it('refuses a non-positive temperature and outputs of different shapes', () => {
    const outputs = tf.tensor2d(probabilities(5));
    assert.throws(() => perSampleDistillationLoss(outputs, outputs, 0), /temperature must be a positive number, got 0/);
    assert.throws(() => perSampleDistillationLoss(outputs, tf.ones([5, 3]), 2), /\[5, 4\].*\[5, 3\] must both be \[batch, classes\]/);
  });
});

describe('SgdTrainer with a teacher', () => {
  it('minimises (1 - w) cross-entropy + w T^2 KL against the teacher on the same batch', () => {
    const student = buildMlp({ inputShape: [6], hiddenUnits: [8], batchNorm: false, numClasses: 4, seed: 1 });
    const teacher = buildMlp({ inputShape: [6], hiddenUnits: [8], batchNorm: false, numClasses: 4, seed: 2 });
    const batch = { x: tf.randomNormal([8, 6], 0, 1, 'float32', 3), y: tf.oneHot(tf.tensor1d([0, 1, 2, 3, 0, 1, 2, 3], 'int32'), 4) };
    const weight = 0.7;
    const temperature = 3;
    // Expected from the same forward passes (the MLPs have no batch norm or dropout, so training mode changes nothing).
    const studentOut = student.apply(batch.x, { training: true }) as tf.Tensor2D;
    const teacherOut = teacher.apply(batch.x, { training: false }) as tf.Tensor2D;
    const crossEntropy = classificationLoss(studentOut, batch.y).dataSync()[0] ?? Number.NaN;
    const terms = distillationFloat64(studentOut.arraySync(), teacherOut.arraySync(), temperature);
    const expected = (1 - weight) * crossEntropy + (weight * terms.reduce((sum, value) => sum + value, 0)) / terms.length;

    const trainer = new SgdTrainer(student, { learningRate: 0.1, momentum: 0 }, { teacher, weight, temperature });
    const { gradients, metrics } = trainer.gradientsWithMetrics(batch);
    assert.ok(Math.abs(metrics.loss - expected) <= 1e-5 * Math.abs(expected), `objective ${metrics.loss} vs ${expected}`);
    tf.dispose(gradients);
    trainer.dispose();
    assert.throws(() => new SgdTrainer(student, { learningRate: 0.1 }, { teacher, weight: 0, temperature }), /distillation weight must be in \(0, 1\], got 0/);
  });

  it('distils a logits model from the teacher logits, and refuses a sigmoid model', () => {
    const student = buildMlp({ inputShape: [6], hiddenUnits: [8], batchNorm: false, numClasses: 4, seed: 1, output: 'logits' });
    const teacher = buildMlp({ inputShape: [6], hiddenUnits: [8], batchNorm: false, numClasses: 4, seed: 2, output: 'logits' });
    const batch = { x: tf.randomNormal([8, 6], 0, 1, 'float32', 3), y: tf.oneHot(tf.tensor1d([0, 1, 2, 3, 0, 1, 2, 3], 'int32'), 4) };
    const weight = 0.4;
    const temperature = 2;
    const studentOut = student.apply(batch.x, { training: true }) as tf.Tensor2D;
    const teacherOut = teacher.apply(batch.x, { training: false }) as tf.Tensor2D;
    const crossEntropy = classificationLoss(studentOut, batch.y, { output: 'logits' }).dataSync()[0] ?? Number.NaN;
    const terms = distillationFloat64(studentOut.arraySync(), teacherOut.arraySync(), temperature, 'logits');
    const expected = (1 - weight) * crossEntropy + (weight * terms.reduce((sum, value) => sum + value, 0)) / terms.length;

    const trainer = new SgdTrainer(student, { learningRate: 0.1, momentum: 0 }, { teacher, weight, temperature });
    const { gradients, metrics } = trainer.gradientsWithMetrics(batch);
    assert.ok(Math.abs(metrics.loss - expected) <= 1e-5 * Math.abs(expected), `objective ${metrics.loss} vs ${expected}`);
    tf.dispose(gradients);
    trainer.dispose();

    const sigmoid = buildMlp({ inputShape: [6], hiddenUnits: [8], batchNorm: false, numClasses: 3, seed: 1, output: 'sigmoid' });
    assert.throws(() => new SgdTrainer(sigmoid, { learningRate: 0.1 }, { teacher: sigmoid, weight, temperature }), /distillation needs a softmax output/);
  });
});
