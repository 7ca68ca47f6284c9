import { buildSmallVgg } from './testing/small-models';
import { registerSurgeryPropertyTests } from './testing/property-tests';

// Properties of removeGroups on a small VGG (conv-bn-relu x4, pooling, Flatten, Dense).
registerSurgeryPropertyTests(buildSmallVgg);
