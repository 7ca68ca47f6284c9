import * as tfl from '@tensorflow/tfjs-layers';

type Tensor = tfl.SymbolicTensor;

function apply(layer: tfl.layers.Layer, input: Tensor | Tensor[]): Tensor {
  return layer.apply(input) as Tensor;
}

/** input -> conv a(widthA) and conv b(widthB) -> concatenate -> bn -> conv(4) -> gap -> dense(2). */
export function concatModel(widthA = 2, widthB = 3): tfl.LayersModel {
  const input = tfl.input({ shape: [4, 4, 3], name: 'image' });
  const a = apply(tfl.layers.conv2d({ filters: widthA, kernelSize: 3, padding: 'same', name: 'a' }), input);
  const b = apply(tfl.layers.conv2d({ filters: widthB, kernelSize: 1, name: 'b' }), input);
  const joined = apply(tfl.layers.concatenate({ name: 'cat' }), [a, b]);
  const normed = apply(tfl.layers.batchNormalization({ name: 'cat_bn' }), joined);
  const c = apply(tfl.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', name: 'c' }), normed);
  const pooled = apply(tfl.layers.globalAveragePooling2d({ name: 'gap' }), c);
  const out = apply(tfl.layers.dense({ units: 2, name: 'out' }), pooled);
  return tfl.model({ inputs: input, outputs: out, name: 'concat_model' });
}

/** input -> conv(width) -> bn -> relu -> depthwise(m) -> bn -> relu -> conv(6) -> gap -> dense(2). */
export function depthwiseModel(multiplier: number, width = 4): tfl.LayersModel {
  const input = tfl.input({ shape: [6, 6, 3], name: 'image' });
  let x = apply(tfl.layers.conv2d({ filters: width, kernelSize: 3, padding: 'same', useBias: false, name: 'conv' }), input);
  x = apply(tfl.layers.batchNormalization({ name: 'conv_bn' }), x);
  x = apply(tfl.layers.reLU({ name: 'conv_relu' }), x);
  x = apply(
    tfl.layers.depthwiseConv2d({ kernelSize: 3, depthMultiplier: multiplier, strides: 2, padding: 'same', name: 'dw' }),
    x,
  );
  x = apply(tfl.layers.batchNormalization({ name: 'dw_bn' }), x);
  x = apply(tfl.layers.reLU({ name: 'dw_relu' }), x);
  x = apply(tfl.layers.conv2d({ filters: 6, kernelSize: 1, name: 'pw' }), x);
  x = apply(tfl.layers.globalAveragePooling2d({ name: 'gap' }), x);
  x = apply(tfl.layers.dense({ units: 2, name: 'out' }), x);
  return tfl.model({ inputs: input, outputs: x, name: `depthwise_m${multiplier}` });
}

/** input -> conv(width) -> separable(sepWidth, m=2) -> bn -> relu -> gap -> dense(2). */
export function separableModel(width = 4, sepWidth = 6): tfl.LayersModel {
  const input = tfl.input({ shape: [6, 6, 3], name: 'image' });
  let x = apply(tfl.layers.conv2d({ filters: width, kernelSize: 3, padding: 'same', name: 'conv' }), input);
  x = apply(tfl.layers.separableConv2d({ filters: sepWidth, kernelSize: 3, depthMultiplier: 2, padding: 'valid', name: 'sep' }), x);
  x = apply(tfl.layers.batchNormalization({ name: 'sep_bn' }), x);
  x = apply(tfl.layers.activation({ activation: 'relu', name: 'sep_relu' }), x);
  x = apply(tfl.layers.globalAveragePooling2d({ name: 'gap' }), x);
  x = apply(tfl.layers.dense({ units: 2, name: 'out' }), x);
  return tfl.model({ inputs: input, outputs: x, name: 'separable_model' });
}

/** input [4,4,2] -> conv(width) -> maxpool -> flatten -> dropout -> dense(hidden) -> dense(2). */
export function flattenModel(width = 3, hidden = 5): tfl.LayersModel {
  const input = tfl.input({ shape: [4, 4, 2], name: 'image' });
  let x = apply(tfl.layers.conv2d({ filters: width, kernelSize: 3, padding: 'same', name: 'conv' }), input);
  x = apply(tfl.layers.maxPooling2d({ poolSize: 2, name: 'pool' }), x);
  x = apply(tfl.layers.flatten({ name: 'flat' }), x);
  x = apply(tfl.layers.dropout({ rate: 0.5, name: 'drop' }), x);
  x = apply(tfl.layers.dense({ units: hidden, activation: 'relu', name: 'fc' }), x);
  x = apply(tfl.layers.dense({ units: 2, name: 'out' }), x);
  return tfl.model({ inputs: input, outputs: x, name: 'flatten_model' });
}

/**
 * A small VGG: [conv-bn-relu] x widths[0..1], maxpool, conv-bn-relu widths[2], maxpool,
 * flatten, dense(widths[3]) relu, dropout, dense(10) softmax; input 8x8x3, biases on.
 */
export function smallVgg(widths: readonly [number, number, number, number] = [8, 8, 16, 32]): tfl.LayersModel {
  const input = tfl.input({ shape: [8, 8, 3], name: 'image' });
  let x = input;
  const block = (filters: number, name: string) => {
    x = apply(tfl.layers.conv2d({ filters, kernelSize: 3, padding: 'same', name: `${name}_conv` }), x);
    x = apply(tfl.layers.batchNormalization({ name: `${name}_bn` }), x);
    x = apply(tfl.layers.activation({ activation: 'relu', name: `${name}_relu` }), x);
  };
  block(widths[0], 'b1');
  block(widths[1], 'b2');
  x = apply(tfl.layers.maxPooling2d({ poolSize: 2, name: 'pool1' }), x);
  block(widths[2], 'b3');
  x = apply(tfl.layers.maxPooling2d({ poolSize: 2, name: 'pool2' }), x);
  x = apply(tfl.layers.flatten({ name: 'flat' }), x);
  x = apply(tfl.layers.dense({ units: widths[3], activation: 'relu', name: 'fc1' }), x);
  x = apply(tfl.layers.dropout({ rate: 0.5, name: 'fc1_drop' }), x);
  x = apply(tfl.layers.dense({ units: 10, activation: 'softmax', name: 'classifier' }), x);
  return tfl.model({ inputs: input, outputs: x, name: 'small_vgg' });
}
