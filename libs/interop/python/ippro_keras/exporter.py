"""TensorFlow.js LayersModel directory -> a Keras model file, built by Keras itself.

`.keras` is written by Keras 3. `.h5` is written by tf.keras 2 (tf-keras), the format's own
library, with the config keys Keras 3 refuses left out (KEYS_KERAS3_REFUSES: convolution keys
tf.keras 2 writes for every convolution and ignores where they do not apply), so that Keras 3 and
tf.keras 2 both load it."""

import json
import os
from typing import Any, Dict, List, Tuple

import numpy as np

from .errors import BadInput, Unsupported
from .importer import MODEL_FILE
from .layers import LayerMapping, mapping_for_keras, mapping_for_tfjs, weight_name_in_layer

KEYS_KERAS3_REFUSES = {
    "DepthwiseConv2D": ("groups",),
    "SeparableConv2D": ("groups", "kernel_initializer", "kernel_regularizer", "kernel_constraint"),
    # tf.keras 2 records the shapes it was built with; Keras 3 builds from the call instead.
    "MultiHeadAttention": ("query_shape", "key_shape", "value_shape"),
}


def export_model(model_dir: str, out_file: str, file_format: str) -> Dict[str, Any]:
    topology, weights = read_layers_model(model_dir)
    flavor = "keras3" if file_format == "keras" else "tf_keras"
    if flavor == "keras3":
        import keras as library
    else:
        import tf_keras as library
    model_class = topology.get("class_name")
    config = topology.get("config")
    if flavor == "tf_keras":
        _check_h5_holds(config)
    _repair_depth_multipliers(config, weights)
    if model_class == "Sequential":
        model = _build_sequential(library, config, flavor)
    elif model_class in ("Model", "Functional"):
        model = _build_functional(library, config, flavor)
    else:
        raise BadInput(f"{model_dir}/{MODEL_FILE}: model class '{model_class}' is neither Model nor Sequential")
    _set_weights(model, weights, flavor, model_dir)
    if flavor == "keras3":
        model.save(out_file)
    else:
        model.save(out_file, save_format="h5")
        _drop_keys_keras3_refuses(out_file)
    return {"kerasVersion": library.__version__, "params": int(model.count_params()), "layers": len(model.layers)}


def read_layers_model(model_dir: str) -> Tuple[Dict[str, Any], Dict[str, np.ndarray]]:
    path = os.path.join(model_dir, MODEL_FILE)
    try:
        with open(path, encoding="utf-8") as handle:
            document = json.load(handle)
    except (OSError, json.JSONDecodeError) as error:
        raise BadInput(f"{path}: {error}") from None
    topology = document.get("modelTopology") or {}
    topology = topology.get("model_config", topology)
    weights: Dict[str, np.ndarray] = {}
    for group in document.get("weightsManifest") or []:
        data = b"".join(_read_file(model_dir, name) for name in group.get("paths", []))
        offset = 0
        for entry in group.get("weights", []):
            if entry.get("dtype", "float32") != "float32" or "quantization" in entry:
                raise BadInput(f"{path}: weight {entry.get('name')} is not stored as float32; ippro exports float32 models")
            count = int(np.prod(entry["shape"], dtype=np.int64))
            size = count * 4
            if offset + size > len(data):
                raise BadInput(f"{path}: the weights files end before weight {entry['name']}")
            weights[entry["name"]] = np.frombuffer(data, dtype="<f4", count=count, offset=offset).reshape(entry["shape"])
            offset += size
    return topology, weights


def _read_file(model_dir: str, name: str) -> bytes:
    path = os.path.join(model_dir, name)
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as error:
        raise BadInput(f"{path}: {error.strerror}") from None


def _layer_entries(config: Any) -> List[Dict[str, Any]]:
    return config if isinstance(config, list) else (config or {}).get("layers", [])


def _repair_depth_multipliers(config: Any, weights: Dict[str, np.ndarray]) -> None:
    """tfjs-layers 4.22 leaves depth_multiplier out of a SeparableConv2D config; the depthwise kernel's shape holds it."""
    for entry in _layer_entries(config):
        layer_config = entry.get("config") or {}
        kernel = weights.get(f"{layer_config.get('name')}/depthwise_kernel")
        if entry.get("class_name") == "SeparableConv2D" and "depth_multiplier" not in layer_config and kernel is not None:
            layer_config["depth_multiplier"] = int(kernel.shape[3])


def _check_h5_holds(config: Any) -> None:
    for entry in _layer_entries(config):
        refusal = _mapping(entry).h5_refusal if entry.get("class_name") != "InputLayer" else None
        if refusal is not None:
            raise Unsupported(str((entry.get("config") or {}).get("name", entry.get("name"))), str(entry.get("class_name")), refusal)


def _mapping(entry: Dict[str, Any]) -> LayerMapping:
    class_name = entry.get("class_name")
    name = (entry.get("config") or {}).get("name", entry.get("name"))
    mapping = mapping_for_tfjs(str(class_name))
    if mapping is None:
        raise BadInput(f"layer '{name}' ({class_name}) has no Keras counterpart ippro writes")
    return mapping


def _make_layer(library: Any, entry: Dict[str, Any], flavor: str) -> Any:
    mapping = _mapping(entry)
    config = entry.get("config") or {}
    arguments = mapping.to_keras(str(config.get("name", entry.get("name"))), config, flavor)
    return getattr(library.layers, mapping.keras_class)(**arguments)


def _build_sequential(library: Any, config: Any, flavor: str) -> Any:
    entries = _layer_entries(config)
    first = (entries[0].get("config") or {}) if entries else {}
    shape = first.get("batch_input_shape", first.get("batch_shape"))
    if shape is None:
        raise BadInput("the Sequential model's first layer has no batch_input_shape")
    name = config.get("name", "sequential") if isinstance(config, dict) else "sequential"
    model = library.Sequential(name=name)
    model.add(library.Input(batch_shape=tuple(shape)))
    for entry in entries:
        if entry.get("class_name") != "InputLayer":
            model.add(_make_layer(library, entry, flavor))
    return model


def _build_functional(library: Any, config: Dict[str, Any], flavor: str) -> Any:
    outputs: Dict[Tuple[str, int], Any] = {}
    pending: List[Tuple[Any, str, int, List[List[Any]], str]] = []
    for entry in config.get("layers", []):
        layer_config = entry.get("config") or {}
        name = str(entry.get("name") or layer_config.get("name"))
        if entry.get("class_name") == "InputLayer":
            shape = layer_config.get("batch_input_shape", layer_config.get("batch_shape"))
            outputs[(name, 0)] = library.Input(batch_shape=tuple(shape), name=name)
            continue
        layer = _make_layer(library, entry, flavor)
        call_inputs = _mapping(entry).call_inputs
        for index, node in enumerate(entry.get("inbound_nodes") or []):
            pending.append((layer, name, index, node, call_inputs))
    # A node runs once its inputs exist (a shared layer's later call may come after other layers).
    while pending:
        ready = [call for call in pending if all((ref[0], ref[1]) in outputs for ref in call[3])]
        if not ready:
            missing = sorted({str(ref[0]) for call in pending for ref in call[3] if (ref[0], ref[1]) not in outputs})
            raise BadInput(f"layers are called on outputs no layer produces: {', '.join(missing)}")
        for call in ready:
            layer, name, index, node, call_inputs = call
            arguments = [outputs[(ref[0], ref[1])] for ref in node]
            outputs[(name, index)] = _call(layer, arguments, call_inputs)
            pending.remove(call)
    inputs = [outputs[(ref[0], ref[1])] for ref in config.get("input_layers", [])]
    results = [outputs[(ref[0], ref[1])] for ref in config.get("output_layers", [])]
    if len(inputs) != 1 or len(results) != 1:
        raise BadInput(f"the model has {len(inputs)} inputs and {len(results)} outputs; ippro exports models with one of each")
    return library.Model(inputs=inputs[0], outputs=results[0], name=config.get("name", "model"))


def _call(layer: Any, arguments: List[Any], call_inputs: str) -> Any:
    if call_inputs == "list":
        return layer(arguments)
    if call_inputs == "attention":
        # tfjs records self-attention as one input; Keras takes the query and the value (key: the value).
        query, value, *key = arguments if len(arguments) > 1 else arguments * 2
        return layer(query, value, *key)
    return layer(arguments[0])


def _set_weights(model: Any, weights: Dict[str, np.ndarray], flavor: str, model_dir: str) -> None:
    used = set()
    for layer in model.layers:
        if not layer.weights:
            continue
        mapping = mapping_for_keras(type(layer).__name__)
        values = []
        for variable in layer.weights:
            short = weight_name_in_layer(variable, layer.name)
            name = f"{layer.name}/{mapping.tfjs_weight_name(short) if mapping else short}"
            if name not in weights:
                raise BadInput(f"{model_dir}: layer '{layer.name}' needs the weight {name}, which the model does not have")
            value = weights[name]
            if tuple(value.shape) != tuple(variable.shape):
                raise BadInput(f"{model_dir}: weight {name} has shape {list(value.shape)}; layer '{layer.name}' needs {list(variable.shape)}")
            values.append(value)
            used.add(name)
        layer.set_weights(values)
    unused = sorted(set(weights) - used)
    if unused:
        raise BadInput(f"{model_dir}: weights no layer takes: {', '.join(unused[:5])}")


def _drop_keys_keras3_refuses(path: str) -> None:
    import h5py

    with h5py.File(path, "r+") as handle:
        config = json.loads(handle.attrs["model_config"])
        for entry in _layer_entries(config.get("config")):
            for key in KEYS_KERAS3_REFUSES.get(str(entry.get("class_name")), ()):
                (entry.get("config") or {}).pop(key, None)
        handle.attrs["model_config"] = json.dumps(config).encode("utf-8")
