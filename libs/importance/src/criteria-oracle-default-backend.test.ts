import { initRuntime } from '@ippro/runtime';
import { describeCriteriaOracle } from './testing/criteria-oracle';

// The backend `auto` chooses on this machine, as every ippro command does by default.
describeCriteriaOracle('default backend', async () => {
  await initRuntime();
});
