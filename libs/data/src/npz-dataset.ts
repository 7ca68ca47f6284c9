import { readFileSync } from 'node:fs';
import { bytesToUnit } from './byte-samples';
import { DataError } from './data-error';
import { checkSampleIndex, noClassLabel, type LabeledDataset } from './labeled-dataset';
import { readNpy, type NpyArray } from './npy-array';
import { readZipMembers, type ZipMember } from './zip-reader';

export interface NpzOptions {
  /** Array names; default 'x' and 'y'. */
  readonly x?: string;
  readonly y?: string;
  /** Class names in label order (a sidecar's `classes`): every label must be one of them. */
  readonly classes?: readonly string[];
  /** Where `classes` comes from, for messages. */
  readonly classesFrom?: string;
}

const X_DTYPES = ['<f4', '|u1', '<u1'];
const Y_KINDS = /^[<|=]([iu][1248]|b1)$/;

/**
 * A NumPy .npz file: samples `x` [n, ...sample shape] of float32 (used as they are) or uint8
 * (bytes / 255, as images), labels `y` of integers or bools: class indices [n], or multi-hot
 * [n, k] (for sigmoid outputs). Read and checked whole when opened.
 */
export class NpzDataset implements LabeledDataset {
  readonly size: number;
  readonly sampleShape: readonly number[];
  readonly numClasses: number;
  readonly classNames?: readonly string[];
  readonly multiHotLabel?: (index: number) => Uint8Array;
  readonly sampleBytes?: (index: number) => Uint8Array;
  private readonly length: number;
  private readonly floats?: Float32Array;
  private readonly labels?: Int32Array;

  private constructor(readonly description: string, path: string, x: NpyArray, y: NpyArray, options: NpzOptions) {
    const fail = (what: string): never => {
      throw new DataError('invalid-argument', `npz file ${path}: ${what}`);
    };
    const xName = options.x ?? 'x';
    const yName = options.y ?? 'y';
    if (!X_DTYPES.includes(x.dtype)) fail(`array ${xName} has dtype ${x.dtype}; samples are float32 or uint8 (x.astype(np.float32))`);
    if (!Y_KINDS.test(y.dtype)) fail(`array ${yName} has dtype ${y.dtype}; labels are integers or bools`);
    const [n = 0, ...sample] = x.shape;
    if (x.shape.length === 0 || n === 0) fail(`array ${xName} has shape (${x.shape.join(', ')}); expected (samples, ...) with at least one sample`);
    if (y.shape.length < 1 || y.shape.length > 2) fail(`array ${yName} has shape (${y.shape.join(', ')}); expected (samples,) class labels or (samples, k) multi-hot labels`);
    if (y.shape[0] !== n) fail(`array ${xName} holds ${n} samples but array ${yName} ${y.shape[0]} labels`);
    this.size = n;
    this.sampleShape = sample.length === 0 ? [1] : sample;
    this.length = this.sampleShape.reduce((product, dim) => product * dim, 1);
    if (x.dtype === '<f4') {
      const floats = x.values() as Float32Array;
      const bad = floats.findIndex((value) => !Number.isFinite(value));
      if (bad >= 0) fail(`array ${xName}: sample ${Math.floor(bad / this.length)} holds a non-finite value (${floats[bad]})`);
      this.floats = floats;
    } else {
      const bytes = new Uint8Array(x.data);
      this.sampleBytes = (index) => {
        checkSampleIndex(this, index);
        return bytes.subarray(index * this.length, (index + 1) * this.length);
      };
    }
    const labels = y.values();
    if (y.shape.length === 2) {
      const k = y.shape[1] as number;
      if (k < 1) fail(`array ${yName} has shape (${y.shape.join(', ')}); multi-hot labels need at least one column`);
      const bad = labels.findIndex((value) => value !== 0 && value !== 1);
      if (bad >= 0) fail(`array ${yName}: sample ${Math.floor(bad / k)} has multi-hot label ${labels[bad]}; each is 0 or 1`);
      if (options.classes !== undefined && options.classes.length !== k) {
        fail(`array ${yName} has ${k} labels per sample, but ${options.classesFrom ?? 'the classes'} lists ${options.classes.length} classes`);
      }
      const hot = Uint8Array.from(labels);
      this.numClasses = k;
      this.multiHotLabel = (index) => {
        checkSampleIndex(this, index);
        return hot.subarray(index * k, (index + 1) * k);
      };
    } else {
      const classes = options.classes?.length;
      const bad = labels.findIndex((value) => !Number.isInteger(value) || value < 0 || (classes !== undefined && value >= classes));
      if (bad >= 0) {
        const range = classes === undefined ? 'a class index is 0 or more' : `the classes of ${options.classesFrom ?? 'the classes'} are 0..${classes - 1}`;
        fail(`array ${yName}: label ${bad} is ${labels[bad]}, outside the classes (${range})`);
      }
      this.labels = Int32Array.from(labels);
      this.numClasses = classes ?? Math.max(...this.labels) + 1;
    }
    if (options.classes !== undefined) this.classNames = options.classes;
  }

  static read(path: string, description: string, options: NpzOptions = {}): NpzDataset {
    let bytes: Buffer;
    try {
      bytes = readFileSync(path);
    } catch (error) {
      const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
      throw new DataError(missing ? 'not-found' : 'unavailable', `npz file ${path} ${missing ? 'does not exist' : 'cannot be read'}`, { cause: error });
    }
    let members: ZipMember[];
    try {
      members = readZipMembers(bytes);
    } catch (error) {
      throw new DataError('invalid-argument', `npz file ${path} is not a readable zip archive: ${(error as Error).message}`, { cause: error });
    }
    const array = (name: string): NpyArray => {
      const member = members.find((entry) => entry.name === `${name}.npy`);
      if (member === undefined) {
        const present = members.map((entry) => entry.name.replace(/\.npy$/, '')).join(', ') || 'none';
        throw new DataError('invalid-argument', `npz file ${path} has no array '${name}' (its arrays: ${present}); name the arrays with x=NAME&y=NAME in the spec`);
      }
      try {
        return readNpy(member.read());
      } catch (error) {
        throw new DataError('invalid-argument', `npz file ${path}: array ${name} ${(error as Error).message}`, { cause: error });
      }
    };
    return new NpzDataset(description, path, array(options.x ?? 'x'), array(options.y ?? 'y'), options);
  }

  label(index: number): number {
    checkSampleIndex(this, index);
    return this.labels === undefined ? noClassLabel(this) : (this.labels[index] as number);
  }

  writeSample(index: number, target: Float32Array, offset: number): void {
    checkSampleIndex(this, index);
    if (this.floats === undefined) bytesToUnit((this.sampleBytes as (index: number) => Uint8Array)(index), target, offset);
    else target.set(this.floats.subarray(index * this.length, (index + 1) * this.length), offset);
  }
}
