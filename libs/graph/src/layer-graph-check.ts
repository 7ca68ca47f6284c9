type Config = Record<string, unknown>;

function isRecord(value: unknown): value is Config {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A layer's inbound nodes, in model.json's snake_case or tfjs' camelCase. */
function inboundNodesOf(layer: Config): unknown[] {
  const nodes = layer['inbound_nodes'] ?? layer['inboundNodes'];
  return Array.isArray(nodes) ? nodes : [];
}

/**
 * Refuses a functional topology that tfjs could never finish building. tfjs applies each layer
 * once the layers it reads have made the nodes it reads, re-queueing the others and looping until
 * none is left; a node whose input no layer makes (a missing or renamed layer, a node index past
 * what that layer makes, a cycle, two layers of one name) keeps it looping forever, holding the
 * process. This replays that loop on the config alone and names the first node that cannot be made.
 * Nested models (a layer that holds `layers`) are checked the same way.
 */
export function checkLayerGraph(topology: unknown, where: string): void {
  const config = isRecord(topology) ? topology['config'] : undefined;
  if (!isRecord(config) || !Array.isArray(config['layers'])) return;
  const layers = config['layers'].filter(isRecord);
  for (const layer of layers) checkLayerGraph(layer, where);
  if (!layers.some((layer) => inboundNodesOf(layer).length > 0)) return;

  const made = new Map<string, number>();
  for (const layer of layers) {
    const name = layer['name'];
    const inner = isRecord(layer['config']) ? layer['config']['name'] : undefined;
    if (typeof name !== 'string' || inner !== name) {
      throw new Error(`${where}: a layer is named ${JSON.stringify(name)} but its config names it ${JSON.stringify(inner)}; each layer needs one name, the same in both places`);
    }
    if (made.has(name)) throw new Error(`${where}: two layers are named "${name}"`);
    // An InputLayer makes its node when it is created; every other layer when it is applied.
    made.set(name, layer['class_name'] === 'InputLayer' || layer['className'] === 'InputLayer' ? 1 : 0);
  }
  let pending = layers.flatMap((layer) => inboundNodesOf(layer).map((node) => ({ layer: layer['name'] as string, node })));
  while (pending.length > 0) {
    const ready = (node: unknown): boolean =>
      !Array.isArray(node) ||
      node.every((input) => Array.isArray(input) && typeof input[0] === 'string' && Number.isInteger(input[1]) && (made.get(input[0]) ?? 0) > (input[1] as number));
    const waiting = pending.filter(({ node }) => !ready(node));
    if (waiting.length === pending.length) {
      const { layer, node } = waiting[0] as { layer: string; node: unknown };
      throw new Error(`${where}: layer "${layer}" reads ${JSON.stringify(node)}, which no layer of the model makes (a missing layer, a node index past its nodes, or a cycle)`);
    }
    // A node that reads nothing is dropped without applying its layer, so it makes no node.
    for (const { layer, node } of pending) if (ready(node) && Array.isArray(node) && node.length > 0) made.set(layer, (made.get(layer) ?? 0) + 1);
    pending = waiting;
  }
}
