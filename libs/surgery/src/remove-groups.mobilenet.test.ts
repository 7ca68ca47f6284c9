import { buildMiniMobileNetV2 } from './testing/small-models';
import { registerSurgeryPropertyTests } from './testing/property-tests';

// Properties of removeGroups on a MobileNetV2-style model (DepthwiseConv2D, Add).
registerSurgeryPropertyTests(buildMiniMobileNetV2);
