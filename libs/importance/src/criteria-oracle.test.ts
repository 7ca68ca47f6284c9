import { describeCriteriaOracle } from './testing/criteria-oracle';
import { useCpuBackend } from './testing/fixture';

describeCriteriaOracle('cpu backend', useCpuBackend);
