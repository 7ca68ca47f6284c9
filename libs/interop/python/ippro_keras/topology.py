"""Model configs of Keras 3 and tf.keras 2 -> the tfjs-layers topology (and the layer list both
directions share). Keras 3 writes a layer call as {"args": [tensor or [tensors]], "kwargs": {}}
with each tensor's keras_history [layer, node, tensor]; tf.keras 2 and tfjs-layers write
[[layer, node, tensor, kwargs], ...]."""

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from .errors import BadInput
from .layers import LayerMapping, mapping_for_keras

TFJS_KERAS_VERSION = "tfjs-layers 4.22.0"


@dataclass
class LayerSpec:
    name: str
    class_name: str  # the tfjs class
    config: Dict[str, Any]  # the tfjs config
    mapping: Optional[LayerMapping]  # None for InputLayer
    inbound_nodes: List[List[List[Any]]] = field(default_factory=list)


@dataclass
class Topology:
    model_class: str  # "Model" (functional) or "Sequential"
    name: str
    layers: List[LayerSpec]
    inputs: List[List[Any]]
    outputs: List[List[Any]]

    def to_tfjs(self) -> Dict[str, Any]:
        if self.model_class == "Sequential":
            config: Dict[str, Any] = {"name": self.name, "layers": [{"class_name": spec.class_name, "config": spec.config} for spec in self.layers]}
        else:
            config = {
                "name": self.name,
                "layers": [{"name": spec.name, "class_name": spec.class_name, "config": spec.config, "inbound_nodes": spec.inbound_nodes} for spec in self.layers],
                "input_layers": self.inputs,
                "output_layers": self.outputs,
            }
        return {"class_name": self.model_class, "config": config, "keras_version": TFJS_KERAS_VERSION, "backend": "tensor_flow.js"}


def _layer_config(layer: Dict[str, Any]) -> Dict[str, Any]:
    return layer.get("config") or {}


def _float32_policy(name: str, class_name: str, config: Dict[str, Any]) -> None:
    dtype = config.get("dtype")
    if isinstance(dtype, dict):
        dtype = (dtype.get("config") or {}).get("name")
    if dtype not in (None, "float32"):
        raise BadInput(f"layer '{name}' ({class_name}): dtype '{dtype}' is not supported (float32 only)")


def _batch_shape(config: Dict[str, Any]) -> Optional[List[Any]]:
    shape = config.get("batch_shape", config.get("batch_input_shape"))
    return None if shape is None else list(shape)


def _input_spec(name: str, batch_shape: List[Any]) -> LayerSpec:
    return LayerSpec(name, "InputLayer", {"batch_input_shape": batch_shape, "dtype": "float32", "sparse": False, "name": name}, None)


def _converted(layer: Dict[str, Any], flavor: str) -> LayerSpec:
    class_name = str(layer["class_name"])
    config = _layer_config(layer)
    name = str(config.get("name") or layer.get("name"))
    mapping = mapping_for_keras(class_name)
    assert mapping is not None, class_name  # checked by the caller before conversion
    _float32_policy(name, class_name, config)
    return LayerSpec(name, mapping.tfjs_name, mapping.to_tfjs(name, config, flavor), mapping)


def _tensor_refs(value: Any) -> List[List[Any]]:
    if not value:
        return []
    if isinstance(value[0], str):  # Keras 3 writes a single input or output unnested
        return [list(value)]
    return [list(ref) for ref in value]


def _check_call_arguments(layer: str, class_name: str, kwargs: Dict[str, Any]) -> None:
    given = {key: value for key, value in (kwargs or {}).items() if value is not None}
    if given:
        arguments = ", ".join(f"{key}={value!r}" for key, value in sorted(given.items()))
        raise BadInput(f"layer '{layer}' ({class_name}) is called with {arguments}, which ippro does not carry over")


# The call arguments that carry MultiHeadAttention's tensors, in the order tfjs takes them as inputs.
_ATTENTION_TENSORS = ("query", "value", "key")


def _history(layer: str, class_name: str, tensor: Any) -> List[Any]:
    history = (tensor.get("config") or {}).get("keras_history") if isinstance(tensor, dict) else None
    if not history:
        raise BadInput(f"layer '{layer}' ({class_name}) is called on a constant, not on a layer's output; ippro carries over layer graphs only")
    return [history[0], history[1], history[2], {}]


def _keras3_node(layer: str, class_name: str, call_inputs: str, node: Dict[str, Any]) -> List[List[Any]]:
    args = list(node.get("args") or [])
    kwargs = dict(node.get("kwargs") or {})
    if call_inputs == "attention":
        args += [kwargs.pop(key) for key in _ATTENTION_TENSORS[len(args):] if kwargs.get(key) is not None]
        _check_call_arguments(layer, class_name, kwargs)
        return [_history(layer, class_name, tensor) for tensor in args]
    if len(args) != 1:
        raise BadInput(f"layer '{layer}' ({class_name}) is called with {len(args)} positional arguments; ippro carries over calls on one tensor or one list of tensors")
    _check_call_arguments(layer, class_name, kwargs)
    tensors = args[0] if isinstance(args[0], list) else [args[0]]
    return [_history(layer, class_name, tensor) for tensor in tensors]


def _keras2_node(layer: str, class_name: str, call_inputs: str, node: List[Any]) -> List[List[Any]]:
    entries = []
    for entry in node:
        kwargs = dict(entry[3]) if len(entry) > 3 else {}
        if call_inputs == "attention":
            # tf.keras 2 records the value and key of a call as [layer, node, tensor] references.
            entries.append([entry[0], entry[1], entry[2], {}])
            entries += [[*kwargs.pop(key)[:3], {}] for key in _ATTENTION_TENSORS[1:] if kwargs.get(key) is not None]
        else:
            entries.append([entry[0], entry[1], entry[2], {}])
        _check_call_arguments(layer, class_name, kwargs)
    return entries


def functional_topology(layers: List[Dict[str, Any]], config: Dict[str, Any], flavor: str, name: str) -> Topology:
    inputs = _tensor_refs(config.get("input_layers"))
    outputs = _tensor_refs(config.get("output_layers"))
    for what, refs in (("inputs", inputs), ("outputs", outputs)):
        if len(refs) != 1:
            raise BadInput(f"the model has {len(refs)} {what} ({', '.join(str(ref[0]) for ref in refs)}); ippro imports models with one input and one output")
    specs = []
    for layer in layers:
        class_name = str(layer["class_name"])
        config_of_layer = _layer_config(layer)
        if class_name == "InputLayer":
            layer_name = str(config_of_layer.get("name") or layer.get("name"))
            _float32_policy(layer_name, class_name, config_of_layer)
            shape = _batch_shape(config_of_layer)
            if shape is None:
                raise BadInput(f"layer '{layer_name}' (InputLayer) has no shape")
            specs.append(_input_spec(layer_name, shape))
            continue
        spec = _converted(layer, flavor)
        for node in layer.get("inbound_nodes") or []:
            convert = _keras3_node if isinstance(node, dict) else _keras2_node
            spec.inbound_nodes.append(convert(spec.name, class_name, spec.mapping.call_inputs if spec.mapping else "tensor", node))
        specs.append(spec)
    return Topology("Model", name, specs, [[ref[0], ref[1], ref[2]] for ref in inputs], [[ref[0], ref[1], ref[2]] for ref in outputs])


def sequential_topology(layers: List[Dict[str, Any]], config: Dict[str, Any], flavor: str, name: str) -> Topology:
    body = [layer for layer in layers if layer.get("class_name") != "InputLayer"]
    if not body:
        raise BadInput("the Sequential model has no layers besides its input")
    declared = [_batch_shape(_layer_config(layer)) for layer in layers]
    shape = next((shape for shape in declared if shape is not None), None)
    if shape is None and config.get("build_input_shape") is not None:
        shape = list(config["build_input_shape"])
    if shape is None:
        raise BadInput("the Sequential model has no input shape; build it (model.build) or start it with keras.Input")
    specs = [_converted(layer, flavor) for layer in body]
    specs[0].config = {"batch_input_shape": shape, "dtype": "float32", **specs[0].config}
    return Topology("Sequential", name, specs, [], [])
