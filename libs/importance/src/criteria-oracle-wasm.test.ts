import { initRuntime } from '@ippro/runtime';
import { describeCriteriaOracle } from './testing/criteria-oracle';

describeCriteriaOracle('wasm backend', async () => {
  await initRuntime({ backend: 'wasm' });
});
