"""Keras model file -> TensorFlow.js LayersModel directory (model.json + weights.bin).

The topology is converted from the file's own model config before Keras loads anything, so every
layer ippro cannot carry over is refused first; Keras (safe mode) then loads the file for its
weights. The result is the format tfjs-layers 4.22 writes itself: Keras-2-style layer configs,
`inbound_nodes` as [[layer, node, tensor, kwargs]] lists, `batch_input_shape`, weights in the
order of the model's weights (trainable ones first)."""

import json
import os
from typing import Any, Dict, List, Optional, Tuple

import numpy as np

from .errors import BadInput
from .layers import mapping_for_keras, supported_classes, weight_name_in_layer
from .source_file import SourceModel, read_source
from .topology import Topology, functional_topology, sequential_topology

MODEL_FILE = "model.json"
WEIGHTS_FILE = "weights.bin"
MODEL_CLASSES = ("Functional", "Model", "Sequential")
CODE_LAYERS = {
    "Lambda": "a Lambda layer holds Python code, which ippro never runs from a model file",
    "TFOpLambda": "a TensorFlow operation recorded as a layer (TFOpLambda); use a Keras layer instead",
    "SlicingOpLambda": "a tensor slice recorded as a layer (SlicingOpLambda); use a Keras layer instead",
}


def import_model(source_path: str, out_dir: str) -> Dict[str, Any]:
    source = read_source(source_path)
    topology = read_topology(source)
    model = load_model(source)
    weights = collect_weights(model, topology)
    write_layers_model(out_dir, topology.to_tfjs(), weights, f"keras v{source.keras_version}")
    return {"format": source.file_format, "kerasVersion": source.keras_version, "modelClass": topology.model_class}


def _custom_reason(layer: Dict[str, Any]) -> Optional[str]:
    class_name = str(layer.get("class_name", ""))
    registered = layer.get("registered_name")
    module = layer.get("module")
    if ">" in class_name or (registered not in (None, class_name)) or (module is not None and not str(module).startswith("keras")):
        return "a custom (registered) class; ippro imports built-in Keras layers only"
    if class_name in CODE_LAYERS:
        return CODE_LAYERS[class_name]
    if class_name in MODEL_CLASSES:
        return "a model nested as a layer; flatten it into one functional model first"
    if class_name != "InputLayer" and mapping_for_keras(class_name) is None:
        return f"not supported (supported: InputLayer, {', '.join(supported_classes())})"
    return None


def read_topology(source: SourceModel) -> Topology:
    """The layers of the file's model, checked and converted; refuses what cannot be carried over."""
    root = source.config
    model_class = str(root.get("class_name", ""))
    if model_class not in MODEL_CLASSES or root.get("registered_name") not in (None, model_class):
        raise BadInput(f"{source.path} holds a '{root.get('registered_name') or model_class}' model; ippro imports Functional and Sequential models (subclassed models have no config to convert)")
    config = root.get("config") or {}
    layers = config.get("layers") if isinstance(config, dict) else config
    if not isinstance(layers, list) or not layers:
        raise BadInput(f"{source.path}: the model config lists no layers")
    for layer in layers:
        reason = _custom_reason(layer)
        if reason is not None:
            raise BadInput(f"layer '{_layer_name(layer)}' ({layer.get('class_name')}): {reason}")
    name = str(config.get("name", "model")) if isinstance(config, dict) else "model"
    read = sequential_topology if model_class == "Sequential" else functional_topology
    return read(layers, config, source.flavor, name)


def _layer_name(layer: Dict[str, Any]) -> str:
    return str((layer.get("config") or {}).get("name") or layer.get("name") or "?")


def load_model(source: SourceModel) -> Any:
    try:
        if source.flavor == "keras3":
            import keras

            return keras.saving.load_model(source.path, compile=False, safe_mode=True)
        import tf_keras

        return tf_keras.models.load_model(source.path, compile=False)
    except Exception as error:  # Keras' own message says what it could not read
        message = str(error).strip().splitlines()
        raise BadInput(f"Keras cannot load {source.path}: {message[-1] if message else type(error).__name__}") from None


def collect_weights(model: Any, topology: Topology) -> List[Tuple[str, np.ndarray, bool]]:
    """(tfjs name, value, trainable) of every weight, trainable ones first, each in layer order."""
    collected = []
    for spec in topology.layers:
        if spec.mapping is None:
            continue
        layer = model.get_layer(spec.name)
        trainable_ids = {id(variable) for variable in layer.trainable_weights}
        for variable in layer.weights:
            name = f"{spec.name}/{spec.mapping.tfjs_weight_name(weight_name_in_layer(variable, spec.name))}"
            collected.append((name, np.asarray(variable.numpy(), dtype=np.float32), id(variable) in trainable_ids))
    return [entry for entry in collected if entry[2]] + [entry for entry in collected if not entry[2]]


def write_layers_model(out_dir: str, topology: Dict[str, Any], weights: List[Tuple[str, np.ndarray, bool]], generated_by: str) -> None:
    os.makedirs(out_dir, exist_ok=True)
    manifest = [{"name": name, "shape": list(value.shape), "dtype": "float32"} for name, value, _ in weights]
    with open(os.path.join(out_dir, WEIGHTS_FILE), "wb") as handle:
        for _, value, _ in weights:
            handle.write(np.ascontiguousarray(value, dtype="<f4").tobytes())
    document = {
        "format": "layers-model",
        "generatedBy": generated_by,
        "convertedBy": "ippro import",
        "modelTopology": topology,
        "weightsManifest": [{"paths": [WEIGHTS_FILE], "weights": manifest}],
    }
    with open(os.path.join(out_dir, MODEL_FILE), "w", encoding="utf-8") as handle:
        json.dump(document, handle)
