import { initRuntime } from '@ippro/runtime';
import { describeTransformerOracle } from './testing/transformer-oracle';

// The backend `auto` chooses on this machine, as every ippro command does by default.
describeTransformerOracle('default backend', async () => {
  await initRuntime();
});
