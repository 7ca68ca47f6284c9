"""Keras models for the tests, built by Keras itself, and their predictions.

  python keras_fixtures.py build DIR [NAME...]  models the round trip covers (or those named), with Keras' predictions
  python keras_fixtures.py refused DIR    files the import must refuse, and the line naming why
  python keras_fixtures.py predict JOBS   predictions of Keras files: [{"file", "library", "inputs", "out"}]

Every model takes 32x32x3 images and gives 10 values, so the synthetic CIFAR-like dataset scores
and prunes them. Inputs are INPUTS (seeded) in DIR/inputs.f32; outputs are float32 little-endian.
Nothing is downloaded: keras.applications with weights=None builds the architecture only."""

import json
import os
import sys
import zipfile

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

INPUT_SHAPE = (32, 32, 3)
CLASSES = 10
EXAMPLES = 8


def _inputs(directory):
    path = os.path.join(directory, "inputs.f32")
    if not os.path.exists(path):
        values = np.random.RandomState(7).uniform(-1.0, 1.0, size=(EXAMPLES, *INPUT_SHAPE)).astype("<f4")
        values.tofile(path)
    return np.fromfile(path, dtype="<f4").reshape(EXAMPLES, *INPUT_SHAPE)


def _train_a_few_steps(model, library, seed):
    """A few SGD steps on random data, so batch-norm statistics and weights are not their initial values."""
    rng = np.random.RandomState(seed)
    images = rng.uniform(-1.0, 1.0, size=(64, *INPUT_SHAPE)).astype("float32")
    labels = rng.randint(0, CLASSES, size=(64,))
    model.compile(optimizer=library.optimizers.SGD(learning_rate=0.05), loss="sparse_categorical_crossentropy")
    model.fit(images, labels, batch_size=16, epochs=1, verbose=0)


def _seed(library, seed):
    """Initial weights and training steps from a fixed seed, so a fixture is the same model on every build (the docs quote its numbers)."""
    import tensorflow as tf

    library.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


def _randomize_batch_norm(model, seed):
    """Spread every batch normalization's scale, shift and statistics, so a deep untrained model's outputs differ per input."""
    rng = np.random.RandomState(seed)
    for layer in model.layers:
        if type(layer).__name__ == "BatchNormalization":
            gamma, beta, mean, variance = layer.get_weights()
            layer.set_weights([
                rng.uniform(0.5, 1.5, gamma.shape).astype("float32"),
                rng.normal(0.0, 0.2, beta.shape).astype("float32"),
                rng.normal(0.0, 0.2, mean.shape).astype("float32"),
                rng.uniform(0.5, 1.5, variance.shape).astype("float32"),
            ])


def resnet_style(keras):
    """Conv2D, BatchNormalization (fast-moving statistics), ReLU, Add with a projection shortcut, pooling, Dense."""
    layers = keras.layers

    def block(x, filters, stride, name):
        shortcut = x
        y = layers.Conv2D(filters, 3, strides=stride, padding="same", use_bias=False, name=f"{name}_conv1")(x)
        y = layers.BatchNormalization(momentum=0.5, name=f"{name}_bn1")(y)
        y = layers.ReLU(name=f"{name}_relu1")(y)
        y = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_conv2")(y)
        y = layers.BatchNormalization(momentum=0.5, name=f"{name}_bn2")(y)
        if stride != 1 or shortcut.shape[-1] != filters:
            shortcut = layers.Conv2D(filters, 1, strides=stride, use_bias=False, name=f"{name}_proj")(shortcut)
            shortcut = layers.BatchNormalization(momentum=0.5, name=f"{name}_proj_bn")(shortcut)
        y = layers.Add(name=f"{name}_add")([shortcut, y])
        return layers.Activation("relu", name=f"{name}_out")(y)

    inputs = keras.Input(INPUT_SHAPE, name="image")
    x = layers.Conv2D(16, 3, padding="same", use_bias=False, name="stem_conv")(inputs)
    x = layers.BatchNormalization(momentum=0.5, name="stem_bn")(x)
    x = layers.ReLU(name="stem_relu")(x)
    x = block(x, 16, 1, "block1")
    x = block(x, 32, 2, "block2")
    x = layers.MaxPooling2D(name="pool")(x)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    outputs = layers.Dense(CLASSES, activation="softmax", name="classifier")(x)
    model = keras.Model(inputs, outputs, name="resnet_style")
    _train_a_few_steps(model, keras, seed=1)
    return model


def mobilenet_v2(keras):
    model = keras.applications.MobileNetV2(weights=None, input_shape=INPUT_SHAPE, classes=CLASSES)
    _randomize_batch_norm(model, seed=2)
    return model


def concatenating(library):
    """Rescaling, Conv2D, DepthwiseConv2D, Concatenate, BatchNormalization, pooling, Flatten, Dropout, Dense."""
    layers = library.layers
    inputs = library.Input(INPUT_SHAPE, name="pixels")
    x = layers.Rescaling(2.0, offset=-0.5, name="rescale")(inputs)
    x = layers.Conv2D(12, 3, padding="same", activation="relu", name="stem")(x)
    wide = layers.Conv2D(8, 1, name="branch_wide")(x)
    deep = layers.DepthwiseConv2D(3, padding="same", name="branch_depthwise")(x)
    deep = layers.Conv2D(6, 1, activation="relu", name="branch_deep")(deep)
    x = layers.Concatenate(name="concat")([wide, deep])
    x = layers.BatchNormalization(momentum=0.5, name="concat_bn")(x)
    x = layers.MaxPooling2D(4, name="pool")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dropout(0.25, name="dropout")(x)
    outputs = layers.Dense(CLASSES, activation="softmax", name="classifier")(x)
    model = library.Model(inputs, outputs, name="concatenating")
    _train_a_few_steps(model, library, seed=3)
    return model


def sequential_keras3(keras):
    """A Sequential model: ZeroPadding2D, SeparableConv2D, LeakyReLU, AveragePooling2D, several activations, Softmax."""
    layers = keras.layers
    model = keras.Sequential([
        keras.Input(INPUT_SHAPE),
        layers.ZeroPadding2D(1, name="pad"),
        layers.SeparableConv2D(12, 3, depth_multiplier=2, activation="relu6", name="separable"),
        layers.BatchNormalization(momentum=0.5, name="separable_bn"),
        layers.LeakyReLU(negative_slope=0.1, name="leaky"),
        layers.AveragePooling2D(2, name="avg_pool"),
        layers.Conv2D(16, 3, activation="swish", name="conv"),
        layers.GlobalMaxPooling2D(name="gmp"),
        layers.Dense(24, activation="gelu", name="hidden_gelu"),
        layers.Dense(24, activation="mish", name="hidden_mish"),
        layers.Dropout(0.1, name="dropout"),
        layers.Dense(CLASSES, name="logits"),
        layers.Softmax(name="probabilities"),
    ], name="sequential_keras3")
    _train_a_few_steps(model, keras, seed=4)
    return model


def sequential_tf_keras(tf_keras):
    """A Sequential model of tf.keras 2: strides, ELU, Cropping2D, UpSampling2D, Reshape, selu, softsign, softplus."""
    layers = tf_keras.layers
    model = tf_keras.Sequential([
        tf_keras.Input(INPUT_SHAPE),
        layers.Conv2D(8, 3, strides=2, activation="elu", name="conv"),
        layers.BatchNormalization(momentum=0.5, name="bn"),
        layers.Activation("tanh", name="tanh"),
        layers.Cropping2D(((1, 2), (2, 1)), name="crop"),
        layers.UpSampling2D(2, name="upsample"),
        layers.MaxPooling2D(4, name="pool"),
        layers.ELU(name="elu"),
        layers.Flatten(name="flatten"),
        layers.Dense(16, activation="selu", name="hidden_selu"),
        layers.Reshape((4, 4), name="reshape"),
        layers.Flatten(name="flatten_again"),
        layers.Dense(16, activation="softsign", name="hidden_softsign"),
        layers.Dense(16, activation="softplus", name="hidden_softplus"),
        layers.Dense(CLASSES, activation="softmax", name="classifier"),
    ], name="sequential_tf_keras")
    _train_a_few_steps(model, tf_keras, seed=5)
    return model


def attention(keras):
    """Patches as tokens (Conv2D, Reshape to 16 tokens of 8), a pre-norm encoder block
    (LayerNormalization, self-attention MultiHeadAttention of 2 heads, residual Add, an MLP),
    GlobalAveragePooling1D over the tokens, Dense softmax."""
    layers = keras.layers
    inputs = keras.Input(INPUT_SHAPE, name="image")
    x = layers.Conv2D(8, 8, strides=8, name="patch_embed")(inputs)
    x = layers.Reshape((16, 8), name="tokens")(x)
    normalized = layers.LayerNormalization(epsilon=1e-6, name="norm1")(x)
    attended = layers.MultiHeadAttention(num_heads=2, key_dim=4, name="attention")(normalized, normalized)
    x = layers.Add(name="add1")([x, attended])
    hidden = layers.Dense(16, activation="gelu", name="mlp1")(layers.LayerNormalization(epsilon=1e-6, name="norm2")(x))
    x = layers.Add(name="add2")([x, layers.Dense(8, name="mlp2")(hidden)])
    x = layers.GlobalAveragePooling1D(name="token_pool")(x)
    outputs = layers.Dense(CLASSES, activation="softmax", name="classifier")(x)
    model = keras.Model(inputs, outputs, name="attention")
    _train_a_few_steps(model, keras, seed=6)
    return model


# name -> (builder, the Keras that builds and saves it, file name)
MODELS = {
    "resnet_style": (resnet_style, "keras", "resnet_style.keras"),
    "mobilenet_v2": (mobilenet_v2, "keras", "mobilenet_v2.keras"),
    "concatenating": (concatenating, "tf_keras", "concatenating.h5"),
    "sequential_keras3": (sequential_keras3, "keras", "sequential_keras3.keras"),
    "sequential_tf_keras": (sequential_tf_keras, "tf_keras", "sequential_tf_keras.h5"),
    "attention": (attention, "keras", "attention.keras"),
}


def build(directory, *names):
    import importlib

    os.makedirs(directory, exist_ok=True)
    inputs = _inputs(directory)
    listing = []
    for name in names or MODELS:
        builder, library, file_name = MODELS[name]
        module = importlib.import_module(library)
        _seed(module, sorted(MODELS).index(name))
        model = builder(module)
        path = os.path.join(directory, file_name)
        model.save(path)
        expected = os.path.join(directory, f"{name}.keras-outputs.f32")
        model.predict(inputs, verbose=0).astype("<f4").tofile(expected)
        listing.append({"name": name, "file": path, "library": library, "expected": expected, "params": int(model.count_params())})
    with open(os.path.join(directory, "models.json"), "w", encoding="utf-8") as handle:
        json.dump(listing, handle, indent=2)


def _small(keras, middle):
    inputs = keras.Input(INPUT_SHAPE, name="image")
    x = keras.layers.Conv2D(4, 3, name="conv")(inputs)
    x = middle(x)
    x = keras.layers.GlobalAveragePooling2D(name="gap")(x)
    return keras.Model(inputs, keras.layers.Dense(CLASSES, activation="softmax", name="classifier")(x))


def _rewrite_metadata(source, target, keras_version):
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(target, "w") as copy:
        for item in original.infolist():
            data = original.read(item.filename)
            if item.filename == "metadata.json":
                metadata = json.loads(data)
                metadata["keras_version"] = keras_version
                data = json.dumps(metadata).encode("utf-8")
            copy.writestr(item, data)


def refused(directory):
    """Each file with the words its refusal must contain."""
    import h5py
    import keras

    @keras.saving.register_keras_serializable(package="fixtures")
    class Doubling(keras.layers.Layer):
        def call(self, inputs):
            return inputs * 2.0

    os.makedirs(directory, exist_ok=True)
    cases = []

    def save(name, model, expected):
        path = os.path.join(directory, name)
        model.save(path)
        cases.append({"file": path, "message": expected})

    save("rms_norm.keras", _small(keras, keras.layers.LayerNormalization(rms_scaling=True, name="norm")), "layer 'norm' (LayerNormalization): rms_scaling=True is not supported")
    gated = keras.layers.MultiHeadAttention(num_heads=2, key_dim=4, use_gate=True, name="gated")
    save("gated_attention.keras", _small(keras, lambda x: gated(x, x)), "layer 'gated' (MultiHeadAttention): use_gate=True is not supported")
    save("custom.keras", _small(keras, Doubling(name="doubling")), "layer 'doubling' (Doubling): a custom (registered) class")
    save("lambda.keras", _small(keras, keras.layers.Lambda(lambda x: x + 1.0, name="plus_one")), "layer 'plus_one' (Lambda): a Lambda layer")
    save("grouped.keras", _small(keras, keras.layers.Conv2D(4, 3, groups=2, name="grouped")), "layer 'grouped' (Conv2D): groups=2 is not supported")
    save("relu_threshold.keras", _small(keras, keras.layers.ReLU(threshold=0.5, name="clipped")), "layer 'clipped' (ReLU): threshold=0.5 is not supported")
    first = keras.Input(INPUT_SHAPE, name="left")
    second = keras.Input(INPUT_SHAPE, name="right")
    merged = keras.layers.Add(name="sum")([first, second])
    save("two_inputs.keras", keras.Model([first, second], keras.layers.Flatten()(merged)), "the model has 2 inputs (left, right)")
    too_new = os.path.join(directory, "too_new.keras")
    _rewrite_metadata(os.path.join(directory, "grouped.keras"), too_new, "3.99.0")
    cases.append({"file": too_new, "message": "was written by Keras 3.99.0; supported: .keras from Keras 3.0 to"})
    theano = os.path.join(directory, "theano.h5")
    _small(keras, keras.layers.ReLU(name="relu")).save(theano)
    with h5py.File(theano, "r+") as handle:
        handle.attrs["keras_version"] = "2.1.6"
        handle.attrs["backend"] = "theano"
    cases.append({"file": theano, "message": "was written by Keras 2.1.6 with the theano backend; supported:"})
    with open(os.path.join(directory, "refused.json"), "w", encoding="utf-8") as handle:
        json.dump(cases, handle, indent=2)


def predict(jobs_file):
    with open(jobs_file, encoding="utf-8") as handle:
        jobs = json.load(handle)
    loaders = {}
    for job in jobs:
        library = job["library"]
        if library not in loaders:
            if library == "keras":
                import keras

                loaders[library] = lambda path: keras.saving.load_model(path, compile=False)
            else:
                import tf_keras

                loaders[library] = lambda path: tf_keras.models.load_model(path, compile=False)
        model = loaders[library](job["file"])
        inputs = np.fromfile(job["inputs"], dtype="<f4").reshape(-1, *INPUT_SHAPE)
        model.predict(inputs, verbose=0).astype("<f4").tofile(job["out"])


if __name__ == "__main__":
    command, *arguments = sys.argv[1:]
    {"build": build, "refused": refused, "predict": predict}[command](*arguments)
