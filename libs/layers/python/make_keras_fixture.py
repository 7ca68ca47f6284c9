"""Writes the Keras reference fixture of @ippro/layers' tests (../test-data/keras-reference/).

Run with Keras 3 and any backend, from this directory:

    pip install keras==3.6.0 "jax[cpu]"
    KERAS_BACKEND=jax python make_keras_fixture.py

It builds with Keras's own layers (and this directory's ippro_layers.py for the token layers):

- attention.json: MultiHeadAttention in several configurations (self-attention, cross-attention
  with value_dim != key_dim and an output width, rank-4 inputs with default and explicit
  attention_axes, the causal mask): each case's Keras config, its weights by Keras 3 variable
  path in Keras's order, seeded inputs and Keras's output.
- vit/: a tiny ViT (patch Conv2D, Reshape, ippro>ClassToken, ippro>PositionEmbedding, pre-norm
  block with LayerNormalization, MultiHeadAttention, gelu MLP, final LayerNormalization,
  ippro>TakeClassToken, softmax classifier) as a TensorFlow.js LayersModel directory (model.json
  + weights.bin, weights named by their Keras paths), with inputs.json and Keras's outputs. The
  model.json is written by the minimal conversion below (Keras 3 config -> tfjs Keras-2-style
  JSON); layer configs and weights are Keras's own.
"""

import json
import os

import numpy as np
import keras

import ippro_layers

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test-data", "keras-reference")
RNG = np.random.default_rng(20250101)


def randomize(model_or_layer):
    """Seeded weights: every weight non-trivial, LayerNormalization's gamma near 1."""
    for weight in model_or_layer.weights:
        shape = tuple(weight.shape)
        if weight.path.endswith("gamma"):
            values = 1.0 + 0.3 * RNG.standard_normal(shape)
        else:
            values = 0.4 * RNG.standard_normal(shape)
        weight.assign(values.astype("float32"))


def weights_of(layer):
    return [{"path": w.path, "shape": list(w.shape), "values": np.asarray(w).ravel().tolist()} for w in layer.weights]


def plain(config):
    """Keras 3 config values as JSON: tuples as lists, dtype policies as their dtype name."""
    if isinstance(config, dict):
        if config.get("class_name") == "DTypePolicy":
            return config["config"]["name"]
        return {key: plain(value) for key, value in config.items()}
    if isinstance(config, (list, tuple)):
        return [plain(value) for value in config]
    return config


def attention_case(name, layer_args, shapes, call_kwargs=None):
    inputs = [keras.Input(shape[1:], batch_size=shape[0]) for shape in shapes]
    layer = keras.layers.MultiHeadAttention(name="attention", **layer_args)
    query = inputs[0]
    value = inputs[1] if len(inputs) > 1 else query
    key = inputs[2] if len(inputs) > 2 else None
    layer(query, value, key=key, **(call_kwargs or {}))
    randomize(layer)
    values = [RNG.standard_normal(shape).astype("float32") for shape in shapes]
    value_arg = values[1] if len(values) > 1 else values[0]
    key_arg = values[2] if len(values) > 2 else None
    output = layer(values[0], value_arg, key=key_arg, **(call_kwargs or {}))
    return {
        "name": name,
        "config": plain(layer.get_config()),
        "callKwargs": call_kwargs or {},
        "weights": weights_of(layer),
        "inputs": [{"shape": list(v.shape), "values": v.ravel().tolist()} for v in values],
        "output": {"shape": list(output.shape), "values": np.asarray(output).ravel().tolist()},
    }


def tiny_vit():
    image = keras.Input((8, 8, 3), name="image")
    x = keras.layers.Conv2D(8, 4, strides=4, name="patch_embed")(image)
    x = keras.layers.Reshape((4, 8), name="tokens")(x)
    x = ippro_layers.ClassToken(name="class_token")(x)
    x = ippro_layers.PositionEmbedding(name="position_embedding")(x)
    h = keras.layers.LayerNormalization(epsilon=1e-6, name="block1_norm1")(x)
    h = keras.layers.MultiHeadAttention(num_heads=2, key_dim=4, name="block1_attention")(h, h)
    x = keras.layers.Add(name="block1_add1")([x, h])
    h = keras.layers.LayerNormalization(epsilon=1e-6, name="block1_norm2")(x)
    h = keras.layers.Dense(16, activation="gelu", name="block1_mlp1")(h)
    h = keras.layers.Dense(8, name="block1_mlp2")(h)
    x = keras.layers.Add(name="block1_add2")([x, h])
    x = keras.layers.LayerNormalization(epsilon=1e-6, name="final_norm")(x)
    x = ippro_layers.TakeClassToken(name="class_output")(x)
    output = keras.layers.Dense(3, activation="softmax", name="classifier")(x)
    model = keras.Model(image, output, name="tiny_vit")
    randomize(model)
    return model


def history_of(tensor_config):
    layer, node, index = tensor_config["config"]["keras_history"]
    return [layer, node, index, {}]


def tfjs_layer(layer_config):
    """One layer of a Keras 3 functional config in the Keras 2 form tfjs reads."""
    config = plain(layer_config["config"])
    if layer_config["class_name"] == "InputLayer":
        config["batch_input_shape"] = config.pop("batch_shape")
    nodes = []
    for node in layer_config["inbound_nodes"]:
        args = node["args"]
        tensors = args[0] if isinstance(args[0], list) else list(args)
        nodes.append([history_of(tensor) for tensor in tensors])
    class_name = layer_config.get("registered_name") or layer_config["class_name"]
    return {"class_name": class_name, "name": config["name"], "config": config, "inbound_nodes": nodes}


def write_tfjs_model(model, directory):
    config = model.get_config()
    topology = {
        "class_name": "Functional",
        "config": {
            "name": config["name"],
            "layers": [tfjs_layer(layer) for layer in config["layers"]],
            "input_layers": [[name, node, index] for name, node, index in plain(config["input_layers"])],
            "output_layers": [[name, node, index] for name, node, index in plain(config["output_layers"])],
        },
        "keras_version": keras.__version__,
        "backend": keras.backend.backend(),
    }
    specs, blobs = [], []
    for weight in model.weights:
        values = np.asarray(weight, dtype="<f4")
        specs.append({"name": weight.path, "shape": list(values.shape), "dtype": "float32"})
        blobs.append(values.tobytes())
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, "weights.bin"), "wb") as handle:
        handle.write(b"".join(blobs))
    manifest = [{"paths": ["weights.bin"], "weights": specs}]
    with open(os.path.join(directory, "model.json"), "w") as handle:
        json.dump({"format": "layers-model", "modelTopology": topology, "weightsManifest": manifest}, handle, indent=1)


def main():
    os.makedirs(OUT, exist_ok=True)
    cases = [
        attention_case("self-attention", {"num_heads": 2, "key_dim": 4}, [(2, 5, 8)]),
        attention_case(
            "cross-attention, value_dim 3, output width 5, no bias",
            {"num_heads": 3, "key_dim": 2, "value_dim": 3, "output_shape": (5,), "use_bias": False},
            [(2, 3, 6), (2, 4, 6), (2, 4, 5)],
        ),
        attention_case("rank 4, default attention axes", {"num_heads": 2, "key_dim": 3}, [(2, 3, 2, 6)]),
        attention_case("rank 4, attention_axes (2,)", {"num_heads": 2, "key_dim": 3, "attention_axes": (2,)}, [(2, 3, 4, 6)]),
        attention_case("causal mask", {"num_heads": 2, "key_dim": 4}, [(2, 5, 8)], {"use_causal_mask": True}),
    ]
    with open(os.path.join(OUT, "attention.json"), "w") as handle:
        json.dump({"keras": keras.__version__, "backend": keras.backend.backend(), "cases": cases}, handle)

    model = tiny_vit()
    images = RNG.standard_normal((2, 8, 8, 3)).astype("float32")
    probabilities = np.asarray(model(images))
    vit_dir = os.path.join(OUT, "vit")
    write_tfjs_model(model, vit_dir)
    with open(os.path.join(vit_dir, "expected.json"), "w") as handle:
        json.dump(
            {
                "keras": keras.__version__,
                "inputs": {"shape": list(images.shape), "values": images.ravel().tolist()},
                "probabilities": {"shape": list(probabilities.shape), "values": probabilities.ravel().tolist()},
            },
            handle,
        )


if __name__ == "__main__":
    main()
