import { buildConcatModel } from './testing/small-models';
import { registerSurgeryPropertyTests } from './testing/property-tests';

// Properties of removeGroups on a Concatenate model (SeparableConv2D, DepthwiseConv2D, Flatten -> Dense).
registerSurgeryPropertyTests(buildConcatModel);
