import { backend_util } from '@tensorflow/tfjs-core';
import { floatTypeAttr, intListAttr, NativeBackend, OpAttr, stringAttr } from '../native-backend';

/**
 * TensorFlow attributes of a 2-D NHWC convolution described by tfjs' conv info. tfjs' explicit
 * and numeric pads become TensorFlow's EXPLICIT padding; where tfjs rounds the output size
 * up ('ceil' or 'round'), the far side gets the extra zero padding that those windows read,
 * so TensorFlow derives the same output size.
 */
export function convolutionAttrs(native: NativeBackend, info: backend_util.Conv2DInfo): OpAttr[] {
  if (info.dataFormat !== 'channelsLast') {
    throw new Error('native convolution gradients take NHWC conv info');
  }
  const spatial = (height: number, width: number): number[] => [1, height, width, 1];
  const attrs: OpAttr[] = [
    floatTypeAttr(native, 'T', 'float32'),
    intListAttr(native, 'strides', spatial(info.strideHeight, info.strideWidth)),
    intListAttr(native, 'dilations', spatial(info.dilationHeight, info.dilationWidth)),
    stringAttr(native, 'data_format', 'NHWC'),
  ];
  const type = info.padInfo.type;
  if (type === 'SAME' || type === 'VALID') {
    return [...attrs, stringAttr(native, 'padding', type)];
  }
  const { top, left } = info.padInfo;
  const bottom = farPad(info.inHeight, top, info.padInfo.bottom, info.outHeight, info.strideHeight, info.effectiveFilterHeight);
  const right = farPad(info.inWidth, left, info.padInfo.right, info.outWidth, info.strideWidth, info.effectiveFilterWidth);
  const paddings = [0, 0, top, bottom, left, right, 0, 0];
  return [
    ...attrs,
    stringAttr(native, 'padding', 'EXPLICIT'),
    intListAttr(native, 'explicit_paddings', paddings),
  ];
}

function farPad(size: number, near: number, far: number, outSize: number, stride: number, filter: number): number {
  return Math.max(far, (outSize - 1) * stride + filter - size - near);
}
