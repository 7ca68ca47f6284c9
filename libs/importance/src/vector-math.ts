/** Euclidean norm, accumulated in float64 in index order. */
export function l2Norm(values: Float64Array): number {
  let sum = 0;
  for (const value of values) {
    sum += value * value;
  }
  return Math.sqrt(sum);
}

export function l1Norm(values: Float64Array): number {
  let sum = 0;
  for (const value of values) {
    sum += Math.abs(value);
  }
  return sum;
}

export function dot(a: Float64Array, b: Float64Array): number {
  let sum = 0;
  for (let index = 0; index < a.length; index++) {
    sum += a[index] * b[index];
  }
  return sum;
}
