/** `cifar10` alone names a split: the training split for training, the test split otherwise. */
export function defaultSplit(spec: string, split: 'train' | 'test'): string {
  return spec === 'cifar10' ? `cifar10:${split}` : spec;
}
