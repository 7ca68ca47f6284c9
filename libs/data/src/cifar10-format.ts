/** The CIFAR-10 binary version, as published at https://www.cs.toronto.edu/~kriz/cifar.html. */

export const CIFAR10_IMAGE_SIDE = 32;
export const CIFAR10_CHANNELS = 3;
export const CIFAR10_PIXELS_PER_CHANNEL = CIFAR10_IMAGE_SIDE * CIFAR10_IMAGE_SIDE;
export const CIFAR10_IMAGE_BYTES = CIFAR10_PIXELS_PER_CHANNEL * CIFAR10_CHANNELS;
/** One label byte, then the red, green and blue planes. */
export const CIFAR10_RECORD_BYTES = 1 + CIFAR10_IMAGE_BYTES;
export const CIFAR10_RECORDS_PER_FILE = 10_000;
export const CIFAR10_STANDARD_FILE_BYTES = CIFAR10_RECORD_BYTES * CIFAR10_RECORDS_PER_FILE;
export const CIFAR10_NUM_CLASSES = 10;
export const CIFAR10_SAMPLE_SHAPE: readonly number[] = [
  CIFAR10_IMAGE_SIDE,
  CIFAR10_IMAGE_SIDE,
  CIFAR10_CHANNELS,
];

export const CIFAR10_CLASS_NAMES: readonly string[] = [
  'airplane',
  'automobile',
  'bird',
  'cat',
  'deer',
  'dog',
  'frog',
  'horse',
  'ship',
  'truck',
];

export type Cifar10Split = 'train' | 'test';

export const CIFAR10_SPLIT_FILES: Readonly<Record<Cifar10Split, readonly string[]>> = {
  train: [
    'data_batch_1.bin',
    'data_batch_2.bin',
    'data_batch_3.bin',
    'data_batch_4.bin',
    'data_batch_5.bin',
  ],
  test: ['test_batch.bin'],
};

/** Every file the official archive provides under cifar-10-batches-bin/ that we keep. */
export const CIFAR10_FILES: readonly string[] = [
  ...CIFAR10_SPLIT_FILES.train,
  ...CIFAR10_SPLIT_FILES.test,
  'batches.meta.txt',
];
