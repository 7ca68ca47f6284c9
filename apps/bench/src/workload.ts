import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';

/** CIFAR-10's shape: what every benchmark model here classifies. */
export const NUM_CLASSES = 10;
export const IMAGE_SHAPE: [number, number, number] = [32, 32, 3];

/** A compiled model plus one seeded random CIFAR-shaped batch, all on the active backend. */
export interface Workload {
  model: LayersModel;
  images: tf.Tensor4D;
  labels: tf.Tensor2D;
  batch: number;
  /** Trainable weights' element count: what a peer implementation of the model must have too. */
  trainableParameters: number;
  /** Runs inference on the batch and waits for the result. */
  forward(): Promise<void>;
  /** One SGD step on categorical cross-entropy, layers in training mode (batch norm, dropout). */
  trainStep(): Promise<void>;
  dispose(): void;
}

/** The plain SGD learning rate of every training step here and of the PyTorch peers. */
export const LEARNING_RATE = 0.01;

function randomBatch(batch: number, seed: number): { images: tf.Tensor4D; labels: tf.Tensor2D } {
  return tf.tidy(() => {
    const images = tf.randomUniform([batch, ...IMAGE_SHAPE], 0, 1, 'float32', seed) as tf.Tensor4D;
    const classes = tf.cast(tf.randomUniform([batch], 0, NUM_CLASSES, 'float32', seed + 1), 'int32');
    const labels = tf.cast(tf.oneHot(classes as tf.Tensor1D, NUM_CLASSES), 'float32') as tf.Tensor2D;
    return { images, labels };
  });
}

export function trainableParameterCount(model: LayersModel): number {
  return model.trainableWeights.reduce((sum, weight) => sum + weight.read().size, 0);
}

/** Compiles `model` (softmax output) for SGD and pairs it with a random batch of `batch` images. */
export function trainingWorkload(model: LayersModel, batch: number, seed: number): Workload {
  model.compile({ optimizer: tf.train.sgd(LEARNING_RATE), loss: 'categoricalCrossentropy' });
  const { images, labels } = randomBatch(batch, seed);
  return {
    model,
    images,
    labels,
    batch,
    trainableParameters: trainableParameterCount(model),
    forward: async () => {
      const output = model.predict(images, { batchSize: batch }) as tf.Tensor;
      await output.data();
      output.dispose();
    },
    // trainOnBatch runs optimizer.minimize with training=true and reads the loss back.
    trainStep: async () => {
      await model.trainOnBatch(images, labels);
    },
    dispose: () => {
      tf.dispose([images, labels]);
      model.dispose();
    },
  };
}
