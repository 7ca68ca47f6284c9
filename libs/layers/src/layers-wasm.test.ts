import { describeLayerChecks } from './testing/layer-checks';

describeLayerChecks('wasm');
