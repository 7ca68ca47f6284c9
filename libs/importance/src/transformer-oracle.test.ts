import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { describeTransformerOracle } from './testing/transformer-oracle';

describeTransformerOracle('cpu backend', async () => {
  await tf.setBackend('cpu');
});
