import type { LayersModel } from '@tensorflow/tfjs-layers';
import type { ClassifierOutput } from './output-kind';
import { buildMlp } from './mlp';
import { buildMobileNetV2Cifar } from './mobilenetv2-cifar';
import { buildResNetCifar } from './resnet-cifar';
import { buildSmallCnn } from './small-cnn';
import { buildVggCifar } from './vgg-cifar';
import { buildVit } from './vit-cifar';

/** What every architecture of the zoo accepts. */
export interface ModelOptions {
  /** Default 10. */
  numClasses?: number;
  /** Base seed of the initialisers. Default 0. */
  seed?: number;
  /** One sample's shape; default [32, 32, 3]. */
  inputShape?: number[];
  /** Width multiplier (alpha); only for architectures that have one (mobilenetv2). */
  widthMultiplier?: number;
  /** The classifier's output kind: softmax probabilities (default), logits or sigmoid. */
  output?: ClassifierOutput;
}

interface Architecture {
  description: string;
  widthMultiplier: boolean;
  build(options: ModelOptions): LayersModel;
}

function imageShape(options: ModelOptions): { inputShape?: [number, number, number] } {
  if (options.inputShape === undefined) return {};
  if (options.inputShape.length !== 3) {
    throw new Error(`this architecture needs [height, width, channels] inputs, got [${options.inputShape.join(', ')}]`);
  }
  return { inputShape: options.inputShape as [number, number, number] };
}

function common(options: ModelOptions): { numClasses?: number; seed?: number; output?: ClassifierOutput } {
  return {
    ...(options.numClasses === undefined ? {} : { numClasses: options.numClasses }),
    ...(options.seed === undefined ? {} : { seed: options.seed }),
    ...(options.output === undefined ? {} : { output: options.output }),
  };
}

const resnet = (depth: 20 | 32 | 56): Architecture => ({
  description: `ResNet-${depth} for CIFAR (He et al. 2016)`,
  widthMultiplier: false,
  build: (options) => buildResNetCifar({ depth, ...common(options), ...imageShape(options) }),
});

const vgg = (depth: 11 | 13 | 16 | 19): Architecture => ({
  description: `VGG-${depth} with batch norm for CIFAR`,
  widthMultiplier: false,
  build: (options) => buildVggCifar({ depth, ...common(options), ...imageShape(options) }),
});

const ARCHITECTURES: ReadonlyMap<string, Architecture> = new Map<string, Architecture>([
  ['resnet20', resnet(20)],
  ['resnet32', resnet(32)],
  ['resnet56', resnet(56)],
  ['vgg11', vgg(11)],
  ['vgg13', vgg(13)],
  ['vgg16', vgg(16)],
  ['vgg19', vgg(19)],
  [
    'mobilenetv2',
    {
      description: 'MobileNetV2 for CIFAR (stride adapted to 32x32), --width-multiplier',
      widthMultiplier: true,
      build: (options) =>
        buildMobileNetV2Cifar({
          ...common(options),
          ...imageShape(options),
          ...(options.widthMultiplier === undefined ? {} : { widthMultiplier: options.widthMultiplier }),
        }),
    },
  ],
  [
    'small-cnn',
    {
      description: 'a 4-conv CNN of 100K parameters for demos and tests',
      widthMultiplier: false,
      build: (options) => buildSmallCnn({ ...common(options), ...imageShape(options) }),
    },
  ],
  [
    'mlp',
    {
      description: 'a 2-hidden-layer perceptron (256, 128) with batch norm',
      widthMultiplier: false,
      build: (options) =>
        buildMlp({ ...common(options), ...(options.inputShape === undefined ? {} : { inputShape: options.inputShape }) }),
    },
  ],
  [
    'vit',
    {
      description: 'a Vision Transformer for 32x32 images: patch 4, width 128, 6 pre-norm blocks of 4 heads, MLP 256, average pooling',
      widthMultiplier: false,
      build: (options) => buildVit({ ...common(options), ...imageShape(options) }),
    },
  ],
]);

/** Names `buildModel` accepts, in a stable order. */
export const MODEL_ARCHITECTURES: readonly string[] = [...ARCHITECTURES.keys()];

/** One line per architecture: its name and what it is. */
export function describeArchitectures(): { name: string; description: string }[] {
  return [...ARCHITECTURES].map(([name, arch]) => ({ name, description: arch.description }));
}

/**
 * Builds a zoo architecture by name, e.g. `buildModel('resnet20', { seed: 1 })`. An unknown
 * name, or an option the architecture does not have, is an error that says what is known.
 */
export function buildModel(arch: string, options: ModelOptions = {}): LayersModel {
  const architecture = ARCHITECTURES.get(arch);
  if (architecture === undefined) {
    throw new Error(`unknown architecture '${arch}'; known architectures: ${MODEL_ARCHITECTURES.join(', ')}`);
  }
  if (options.widthMultiplier !== undefined && !architecture.widthMultiplier) {
    const withWidth = [...ARCHITECTURES].filter(([, a]) => a.widthMultiplier).map(([name]) => name);
    throw new Error(`architecture '${arch}' has no width multiplier (only ${withWidth.join(', ')})`);
  }
  return architecture.build(options);
}
