import * as tfl from '@tensorflow/tfjs-layers';

/** A small CIFAR-shaped CNN that the cpu backend trains in well under a second per step. */
export function tinyCnn(seed: number): tfl.LayersModel {
  const input = tfl.input({ shape: [32, 32, 3], name: 'image' });
  let x = tfl.layers.maxPooling2d({ poolSize: 4, name: 'downsample' }).apply(input) as tfl.SymbolicTensor;
  for (const [index, filters] of [8, 12].entries()) {
    x = tfl.layers
      .conv2d({ filters, kernelSize: 3, padding: 'same', useBias: false, name: `conv${index + 1}`, kernelInitializer: tfl.initializers.heNormal({ seed: seed + index }) })
      .apply(x) as tfl.SymbolicTensor;
    x = tfl.layers.batchNormalization({ name: `bn${index + 1}` }).apply(x) as tfl.SymbolicTensor;
    x = tfl.layers.activation({ activation: 'relu', name: `relu${index + 1}` }).apply(x) as tfl.SymbolicTensor;
  }
  x = tfl.layers.globalAveragePooling2d({ name: 'pool' }).apply(x) as tfl.SymbolicTensor;
  const output = tfl.layers
    .dense({ units: 10, activation: 'softmax', name: 'classifier', kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + 9 }) })
    .apply(x) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: output, name: 'tiny_cnn' });
}
