import { initRuntime } from '@ippro/runtime';
import { describeTransformerOracle } from './testing/transformer-oracle';

describeTransformerOracle('wasm backend', async () => {
  await initRuntime({ backend: 'wasm' });
});
