import { createHash } from 'node:crypto';
import * as tf from '@tensorflow/tfjs-core';

/** The numeric path a process computes on, as far as it can be named before computing. */
export interface NumericPath {
  /** The ippro backend name: "tensorflow-gpu", "tensorflow", "wasm" or "cpu". */
  backend: string;
  /** Intra-op threads (native backends split large reductions by them; 1 for wasm and cpu). */
  threads: number;
}

export interface KernelFingerprint {
  /** 16 hex digits of sha256 over the path, the tfjs version and the output bytes: equal fingerprints, equal bytes. */
  fingerprint: string;
  /** sha256 (hex) of the output bytes alone: tells whether two paths differ in their numbers or only in their names. */
  outputSha256: string;
  backend: string;
  threads: number;
  /** The tfjs-core version the fixed computation ran with. */
  tfjs: string;
}

/** Deterministic float32 values in [-0.5, 0.5): no random generator, so every process makes the same ones. */
function fixedValues(count: number, salt: number): Float32Array {
  const values = new Float32Array(count);
  for (let i = 0; i < count; i += 1) values[i] = (((i * 37 + salt * 11) % 101) / 101 - 0.5) * (1 + (i % 7) / 7);
  return values;
}

/**
 * The output bytes of a small fixed computation on the current tfjs backend: a 3x3 convolution,
 * a matrix product, exp, log and a reduction, the kernels whose rounding differs between
 * backends (and between CPU instruction sets and GPU kernels of one backend). Every
 * intermediate result is hashed, so a difference anywhere shows.
 */
function kernelOutputs(): Float32Array[] {
  return tf.tidy(() => {
    const input = tf.tensor4d(fixedValues(1 * 8 * 8 * 4, 1), [1, 8, 8, 4]);
    const filter = tf.tensor4d(fixedValues(3 * 3 * 4 * 8, 2), [3, 3, 4, 8]);
    const conv = tf.relu(tf.conv2d(input, filter, 1, 'same'));
    const weights = tf.tensor2d(fixedValues(8 * 16, 3), [8, 16]);
    const product = tf.matMul(tf.reshape(conv, [64, 8]), weights);
    const exped = tf.exp(tf.mul(product, 0.5));
    const logged = tf.log(tf.add(exped, 1));
    const reduced = tf.sum(logged, 0);
    const total = tf.mean(tf.mul(logged, product));
    return [conv, product, exped, logged, reduced, total].map((tensor) => tensor.dataSync() as Float32Array);
  });
}

/**
 * The kernel fingerprint of this process's numeric path, computed through the active tfjs
 * backend (call after initRuntime). Two processes with the same fingerprint ran the fixed
 * computation to the same bytes under the same backend, thread count and tfjs version; a run
 * that promises byte-identical models keeps its calls on workers of one fingerprint.
 */
export function kernelFingerprint(path: NumericPath): KernelFingerprint {
  const outputs = createHash('sha256');
  for (const values of kernelOutputs()) outputs.update(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
  const outputSha256 = outputs.digest('hex');
  const fingerprint = createHash('sha256')
    .update(`ippro kernel fingerprint v1\nbackend ${path.backend}\nthreads ${path.threads}\ntfjs ${tf.version_core}\noutputs ${outputSha256}\n`)
    .digest('hex')
    .slice(0, 16);
  return { fingerprint, outputSha256, backend: path.backend, threads: path.threads, tfjs: tf.version_core };
}
