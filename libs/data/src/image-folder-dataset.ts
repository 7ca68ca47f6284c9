import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { bytesToUnit } from './byte-samples';
import { DataError } from './data-error';
import type { ImageFit } from './dataset-spec';
import { CHANNEL_NAMES, decodeImage, type DecodedImage } from './image-decode';
import { fitImage } from './image-fit';
import { checkSampleIndex, type LabeledDataset } from './labeled-dataset';

/** File endings read as images (case-insensitive); other files in the class folders are ignored. */
export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg'];

export interface ImageFolderOptions {
  /** [height, width] the images are fitted to; default `modelInput`'s, else the images' own (all alike). */
  readonly size?: readonly [number, number];
  /** Default 'resize'. */
  readonly fit?: ImageFit;
  /** Channels of the samples; default `modelInput`'s, else the images' own (all alike). */
  readonly channels?: number;
  /** Convert images with other channels instead of refusing them. */
  readonly convert?: boolean;
  /** The sample shape [height, width, channels] of the model the images feed, when one is known (null: any). */
  readonly modelInput?: readonly (number | null)[];
  /** Class names in label order (a sidecar's `classes`): the sub-folders must be among them. Default: the sub-folders, sorted. */
  readonly classes?: readonly string[];
  /** Where `classes` comes from, for messages. */
  readonly classesFrom?: string;
}

interface ImageFile {
  path: string;
  label: number;
}

function fail(message: string, kind: 'invalid-argument' | 'not-found' = 'invalid-argument'): never {
  throw new DataError(kind, message);
}

function isImageFile(name: string): boolean {
  const lower = name.toLowerCase();
  return IMAGE_EXTENSIONS.some((extension) => lower.endsWith(extension));
}

/** Image files under `directory`, all depths, in sorted path order; names starting with '.' are skipped. */
function imagesUnder(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true })
    .filter((entry) => !entry.name.startsWith('.'))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .flatMap((entry) => {
      const path = join(directory, entry.name);
      if (entry.isDirectory()) return imagesUnder(path);
      return isImageFile(entry.name) ? [path] : [];
    });
}

/** The class folders (sorted, or in the order `classes` gives) and their image files. */
function listImages(root: string, options: ImageFolderOptions): { classNames: string[]; files: ImageFile[] } {
  let folders: string[];
  try {
    if (!statSync(root).isDirectory()) fail(`image folder ${root} is not a directory`);
    folders = readdirSync(root, { withFileTypes: true })
      .filter((entry) => entry.isDirectory() && !entry.name.startsWith('.'))
      .map((entry) => entry.name)
      .sort();
  } catch (error) {
    if (error instanceof DataError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new DataError(code === 'ENOENT' ? 'not-found' : 'unavailable', `image folder ${root} ${code === 'ENOENT' ? 'does not exist' : `cannot be read (${code})`}`, { cause: error });
  }
  if (folders.length === 0) fail(`image folder ${root} has no class folders: put each class's images in a folder of its own (${root}/cat/*.png, ${root}/dog/*.png)`);
  const classNames = options.classes === undefined ? folders : [...options.classes];
  const stranger = folders.find((folder) => !classNames.includes(folder));
  if (stranger !== undefined) {
    fail(`class folder ${join(root, stranger)} is not one of the classes listed in ${options.classesFrom ?? 'the classes'} (${classNames.join(', ')})`);
  }
  const files = folders.flatMap((folder) => {
    const images = imagesUnder(join(root, folder));
    if (images.length === 0) fail(`class folder ${join(root, folder)} holds no images (${IMAGE_EXTENSIONS.join(', ')})`);
    return images.map((path) => ({ path, label: classNames.indexOf(folder) }));
  });
  files.sort((a, b) => a.label - b.label);
  return { classNames, files };
}

function decodeFile(path: string): DecodedImage {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    throw new DataError('unavailable', `image ${path} cannot be read (${(error as NodeJS.ErrnoException).code})`, { cause: error });
  }
  try {
    return decodeImage(bytes);
  } catch (error) {
    throw new DataError('invalid-argument', `image ${path} cannot be decoded: ${(error as Error).message}`, { cause: error });
  }
}

function channelText(channels: number): string {
  return `${channels} channel${channels === 1 ? '' : 's'} (${CHANNEL_NAMES[channels] ?? 'unknown'})`;
}

/**
 * A folder of images, one sub-folder per class (the convention of torchvision's ImageFolder and
 * Keras' image_dataset_from_directory): class order alphabetical (or a sidecar's `classes`), samples
 * class by class in sorted path order. Every image is decoded when the dataset is opened (an
 * undecodable image, an empty class folder or an image of the wrong channels is refused then),
 * fitted to one size and kept as bytes; samples are the bytes / 255.
 */
export class ImageFolderDataset implements LabeledDataset {
  readonly size: number;
  readonly sampleShape: readonly number[];
  readonly numClasses: number;
  readonly classNames: readonly string[];
  private readonly pixels: Uint8Array;
  private readonly labels: Int32Array;
  private readonly length: number;

  private constructor(
    readonly description: string,
    shape: readonly [number, number, number],
    classNames: readonly string[],
    pixels: Uint8Array,
    labels: Int32Array,
  ) {
    this.size = labels.length;
    this.sampleShape = shape;
    this.numClasses = classNames.length;
    this.classNames = classNames;
    this.pixels = pixels;
    this.labels = labels;
    this.length = shape[0] * shape[1] * shape[2];
  }

  static read(root: string, description: string, options: ImageFolderOptions = {}): ImageFolderDataset {
    const { classNames, files } = listImages(root, options);
    const fit = options.fit ?? 'resize';
    const givenSize = options.size ?? modelSize(options.modelInput);
    const givenChannels = options.channels ?? options.modelInput?.[2] ?? undefined;
    let shape: [number, number, number] | undefined;
    let pixels = new Uint8Array(0);
    // One image decoded at a time: only the fitted bytes are kept.
    files.forEach((file, i) => {
      const image = decodeFile(file.path);
      if (shape === undefined) {
        shape = [...(givenSize ?? [image.height, image.width]), givenChannels ?? image.channels] as [number, number, number];
        if (![1, 3, 4].includes(shape[2])) fail(`${description}: samples of ${shape[2]} channels; images give 1 (grayscale), 3 (RGB) or 4 (RGBA)`);
        pixels = new Uint8Array(files.length * shape[0] * shape[1] * shape[2]);
      }
      const [height, width, channels] = shape;
      if (givenSize === undefined && (image.height !== height || image.width !== width)) {
        fail(
          `images in ${root} differ in size (${relative(root, (files[0] as ImageFile).path)} is ${height}x${width}, ${relative(root, file.path)} ` +
            `${image.height}x${image.width}); give the size with size=HEIGHTxWIDTH in the spec`,
        );
      }
      if (image.channels !== channels && options.convert !== true) {
        const remedy = givenChannels === undefined ? `give channels=1, 3 or 4 and convert=true in the spec` : `add convert=true to the spec to convert it`;
        fail(`image ${file.path} has ${channelText(image.channels)}, but the samples have ${channelText(channels)}; ${remedy}`);
      }
      fitImage(image, height, width, channels, fit, pixels, i * height * width * channels);
    });
    return new ImageFolderDataset(description, shape as [number, number, number], classNames, pixels, Int32Array.from(files, (file) => file.label));
  }

  label(index: number): number {
    checkSampleIndex(this, index);
    return this.labels[index] as number;
  }

  readonly sampleBytes = (index: number): Uint8Array => {
    checkSampleIndex(this, index);
    return this.pixels.subarray(index * this.length, (index + 1) * this.length);
  };

  writeSample(index: number, target: Float32Array, offset: number): void {
    bytesToUnit(this.sampleBytes(index), target, offset);
  }
}

function modelSize(modelInput: readonly (number | null)[] | undefined): [number, number] | undefined {
  const [height, width] = modelInput ?? [];
  return modelInput?.length === 3 && typeof height === 'number' && typeof width === 'number' ? [height, width] : undefined;
}
