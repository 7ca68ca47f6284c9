import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { buildResNetCifar } from '@ippro/models';

const NUM_CLASSES = 10;
const IMAGE_SHAPE: [number, number, number] = [32, 32, 3];

/** A compiled ResNet-20 plus one seeded random batch, all on the active backend. */
export interface ResNetWorkload {
  model: LayersModel;
  images: tf.Tensor4D;
  labels: tf.Tensor2D;
  batch: number;
  /** Runs inference on the batch and waits for the result. */
  forward(): Promise<void>;
  /** One SGD step on categorical cross-entropy with batch norm in training mode. */
  trainStep(): Promise<void>;
  dispose(): void;
}

function randomBatch(batch: number, seed: number): { images: tf.Tensor4D; labels: tf.Tensor2D } {
  return tf.tidy(() => {
    const images = tf.randomUniform([batch, ...IMAGE_SHAPE], 0, 1, 'float32', seed) as tf.Tensor4D;
    const classes = tf.cast(tf.randomUniform([batch], 0, NUM_CLASSES, 'float32', seed + 1), 'int32');
    const labels = tf.cast(tf.oneHot(classes as tf.Tensor1D, NUM_CLASSES), 'float32') as tf.Tensor2D;
    return { images, labels };
  });
}

export function createResNetWorkload(batch: number, seed: number): ResNetWorkload {
  const model = buildResNetCifar({ depth: 20, numClasses: NUM_CLASSES, seed });
  model.compile({ optimizer: tf.train.sgd(0.01), loss: 'categoricalCrossentropy' });
  const { images, labels } = randomBatch(batch, seed);
  return {
    model,
    images,
    labels,
    batch,
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
