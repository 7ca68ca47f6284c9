// Writes ../test-data/tiny-transformer: the tiny ViT the transformer oracle (transformer_oracle.py)
// and the importance tests share, with seeded, non-trivial weights, and its scoring data.
// Run from the workspace root after `npm run build`: node libs/importance/oracle/write-transformer-fixture.mjs
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const tf = require('@tensorflow/tfjs-core');
require('@tensorflow/tfjs-backend-cpu');
const { buildVit } = require('@ippro/models');
const { saveLayersModelToDir } = require('@ippro/graph');

const OUT = join(dirname(fileURLToPath(import.meta.url)), '..', 'test-data', 'tiny-transformer');
const SAMPLES = 16;
const BATCH_SIZE = 4;

/** mulberry32, then Box-Muller: the same numbers on every machine. */
function normals(seed) {
  let state = seed >>> 0;
  const uniform = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
}

const round4 = (value) => Math.round(value * 1e4) / 1e4;

await tf.setBackend('cpu');
const model = buildVit({ inputShape: [4, 4, 2], patchSize: 2, dModel: 8, depth: 1, numHeads: 2, mlpDim: 16, numClasses: 3, pooling: 'class-token' });
const normal = normals(2025);
// Every weight non-trivial (LayerNormalization's gamma near 1); values rounded so the files read the same everywhere.
for (const weight of model.weights) {
  const scale = weight.originalName.endsWith('/gamma') ? 0.3 : 0.5;
  const offset = weight.originalName.endsWith('/gamma') ? 1 : 0;
  const values = Float32Array.from({ length: weight.read().size }, () => round4(offset + scale * normal()));
  weight.write(tf.tensor(values, weight.shape));
}
mkdirSync(OUT, { recursive: true });
await saveLayersModelToDir(model, OUT);
// Samples nested [height][width][channels], so `json:` datasets of the CLI read the file as it is.
const pixel = () => [round4(normal()), round4(normal())];
const inputs = Array.from({ length: SAMPLES }, () => Array.from({ length: 4 }, () => Array.from({ length: 4 }, pixel)));
const labels = Array.from({ length: SAMPLES }, (_, i) => (i * 7 + 1) % 3);
writeFileSync(join(OUT, 'data.json'), `${JSON.stringify({ inputs, labels, batchSize: BATCH_SIZE })}\n`);
console.log(`wrote ${OUT}`);
