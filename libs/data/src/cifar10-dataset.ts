import { join } from 'node:path';
import { Cifar10File } from './cifar10-file';
import { CIFAR10_RECORDS_PER_FILE, CIFAR10_SPLIT_FILES, type Cifar10Split } from './cifar10-format';
import { ConcatenatedDataset } from './concatenated-dataset';
import { DataError } from './data-error';
import type { LabeledDataset } from './labeled-dataset';

/**
 * The standard CIFAR-10 train (50,000) or test (10,000) split from a directory of the official
 * binary files. Every file must exist with the standard size now; bytes are read lazily.
 */
export function openCifar10(directory: string, split: Cifar10Split): LabeledDataset {
  const description = `cifar10:${split}`;
  const files = CIFAR10_SPLIT_FILES[split].map((name) => {
    try {
      return Cifar10File.open(join(directory, name), { expectedRecords: CIFAR10_RECORDS_PER_FILE });
    } catch (error) {
      if (error instanceof DataError && error.kind === 'not-found') {
        throw new DataError(
          'not-found',
          `${description}: ${error.message}; download it with downloadCifar10(), point ` +
            `IPPRO_DATA_DIR at a directory holding the .bin files, or pass the directory`,
          { cause: error },
        );
      }
      throw error;
    }
  });
  return new ConcatenatedDataset(description, files);
}
