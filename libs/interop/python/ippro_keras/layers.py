"""The layer registry: one entry per Keras class, saying how its config and weights map to the
TensorFlow.js LayersModel format (tfjs-layers 4.22) and back.

A config field is copied under the key both formats share unless its entry says otherwise; the
values tfjs-layers cannot represent (a ReLU with a threshold, grouped convolutions, per-channel
rescaling, ...) are refused with the layer's name. Adding a layer is adding one `_register(...)`.

"flavor" is which Keras wrote (import) or will read (export) the config: "keras3" (Keras 3) or
"tf_keras" (tf.keras 2 / tf-keras). They differ in a few keys, named per flavor below.
"""

from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Optional, Tuple

from .errors import Unsupported

Config = Dict[str, Any]

# Keras activation names and the tfjs-layers activation each equals, value for value. Keras 3's
# hard_sigmoid (relu6(x + 3) / 6) is not tfjs' (the Keras 2 formula), and tfjs has no leaky_relu
# activation string: both are refused.
_ACTIVATIONS = {
    "linear": "linear",
    "relu": "relu",
    "relu6": "relu6",
    "sigmoid": "sigmoid",
    "softmax": "softmax",
    "log_softmax": "log_softmax",
    "tanh": "tanh",
    "elu": "elu",
    "selu": "selu",
    "softplus": "softplus",
    "softsign": "softsign",
    "swish": "swish",
    "silu": "swish",
    "gelu": "gelu",
    "mish": "mish",
}

# Keras initializer classes -> tfjs class and the config keys tfjs takes. Initializers never touch
# the weights ippro moves; they are kept so the model stays what it was.
_INITIALIZERS = {
    "Zeros": ("Zeros", ()),
    "Ones": ("Ones", ()),
    "Constant": ("Constant", ("value",)),
    "RandomNormal": ("RandomNormal", ("mean", "stddev", "seed")),
    "RandomUniform": ("RandomUniform", ("minval", "maxval", "seed")),
    "TruncatedNormal": ("TruncatedNormal", ("mean", "stddev", "seed")),
    "VarianceScaling": ("VarianceScaling", ("scale", "mode", "distribution", "seed")),
    "GlorotUniform": ("GlorotUniform", ("seed",)),
    "GlorotNormal": ("GlorotNormal", ("seed",)),
    "HeNormal": ("HeNormal", ("seed",)),
    "HeUniform": ("HeUniform", ("seed",)),
    "LecunNormal": ("LeCunNormal", ("seed",)),
    "LecunUniform": ("LeCunUniform", ("seed",)),
    "Orthogonal": ("Orthogonal", ("gain", "seed")),
    "Identity": ("Identity", ("gain",)),
}
_INITIALIZER_BY_TFJS = {tfjs: keras for keras, (tfjs, _) in _INITIALIZERS.items()}
_DISTRIBUTIONS = ("normal", "uniform", "truncated_normal")


class _Field:
    """One config field: its tfjs key, its Keras key per flavor (None: that Keras has no such
    argument, so it is not written), and how its value converts."""

    def __init__(self, tfjs_key: str, keras_keys: Optional[Dict[str, Optional[str]]] = None, kind: str = "plain", default: Any = None):
        self.tfjs_key = tfjs_key
        self.keras_keys = keras_keys or {}
        self.kind = kind
        self.default = default

    def keras_key(self, flavor: str) -> Optional[str]:
        return self.keras_keys.get(flavor, self.tfjs_key)


def _plain(key: str, default: Any = None, **keras_keys: Optional[str]) -> _Field:
    return _Field(key, keras_keys, "plain", default)


def _activation(key: str = "activation") -> _Field:
    return _Field(key, kind="activation", default="linear")


def _axis() -> _Field:
    return _Field("axis", kind="axis", default=-1)


def _initializer(key: str) -> _Field:
    return _Field(key, kind="initializer")


def _regularizer(key: str) -> _Field:
    return _Field(key, kind="regularizer")


def _constraint(key: str) -> _Field:
    return _Field(key, kind="constraint")


class _Refusal(Exception):
    """A field value with no counterpart; the caller adds the layer's name and class."""


def _to_tfjs_value(item: _Field, value: Any) -> Any:
    if item.kind == "plain":
        return _json_ready(value)
    if item.kind == "axis":
        # tf.keras 2 writes BatchNormalization's axis as a one-element list; Keras 3 takes an int.
        return value[0] if isinstance(value, (list, tuple)) and len(value) == 1 else value
    if item.kind == "activation":
        name = "linear" if value is None else value
        if not isinstance(name, str) or name not in _ACTIVATIONS:
            raise _Refusal(f"activation {_describe(value)} has no TensorFlow.js counterpart (supported: {', '.join(sorted(_ACTIVATIONS))})")
        return _ACTIVATIONS[name]
    if item.kind == "initializer":
        return _initializer_to_tfjs(item.tfjs_key, value)
    if item.kind == "regularizer":
        return _regularizer_to_tfjs(item.tfjs_key, value)
    if value is not None:
        raise _Refusal(f"{item.tfjs_key} {_describe(value)} is not supported (constraints are not carried over)")
    return None


def _to_keras_value(item: _Field, value: Any) -> Any:
    if item.kind in ("plain", "axis"):
        return value
    if item.kind == "activation":
        name = "linear" if value is None else value
        keras_names = {tfjs: keras for keras, tfjs in _ACTIVATIONS.items() if keras != "silu"}
        if name not in keras_names:
            raise _Refusal(f"activation {_describe(value)} has no Keras counterpart ippro writes")
        return keras_names[name]
    if item.kind == "initializer":
        if value is None:
            return None
        class_name = value.get("class_name")
        if class_name not in _INITIALIZER_BY_TFJS:
            raise _Refusal(f"{item.tfjs_key} {class_name} is not supported")
        return {"class_name": _INITIALIZER_BY_TFJS[class_name], "config": dict(value.get("config") or {})}
    if item.kind == "regularizer":
        if value is None:
            return None
        settings = value.get("config") or {}
        return {"class_name": "L1L2", "config": {"l1": float(settings.get("l1", 0.0)), "l2": float(settings.get("l2", 0.0))}}
    if value is not None:
        raise _Refusal(f"{item.tfjs_key} {_describe(value)} is not supported (constraints are not carried over)")
    return None


def _initializer_to_tfjs(key: str, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, str):
        value = {"class_name": "".join(part.capitalize() for part in value.split("_")), "config": {}}
    class_name = value.get("class_name")
    if class_name not in _INITIALIZERS:
        raise _Refusal(f"{key} {class_name} has no TensorFlow.js counterpart (supported: {', '.join(sorted(_INITIALIZERS))})")
    tfjs_class, keys = _INITIALIZERS[class_name]
    settings = value.get("config") or {}
    converted = {name: _json_ready(settings[name]) for name in keys if name in settings}
    if converted.get("distribution") not in (None, *_DISTRIBUTIONS):
        raise _Refusal(f"{key} distribution '{converted['distribution']}' is not supported (supported: {', '.join(_DISTRIBUTIONS)})")
    return {"class_name": tfjs_class, "config": converted}


def _regularizer_to_tfjs(key: str, value: Any) -> Any:
    if value is None:
        return None
    class_name = value.get("class_name")
    settings = value.get("config") or {}
    if class_name not in ("L1", "L2", "L1L2"):
        raise _Refusal(f"{key} {class_name} has no TensorFlow.js counterpart (supported: L1, L2, L1L2)")
    return {"class_name": "L1L2", "config": {"l1": float(settings.get("l1", 0.0)), "l2": float(settings.get("l2", 0.0))}}


def _json_ready(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_json_ready(item) for item in value]
    if isinstance(value, list):
        return [_json_ready(item) for item in value]
    return value


def _describe(value: Any) -> str:
    return f"'{value}'" if isinstance(value, str) else repr(value)


Check = Callable[[Config], Optional[str]]


@dataclass(frozen=True)
class LayerMapping:
    """How one Keras layer class maps to tfjs-layers: its config fields, checks and weight names."""

    keras_class: str
    fields: Tuple[_Field, ...] = ()
    # Each returns why a config cannot be carried over (None when it can).
    checks: Tuple[Check, ...] = ()
    # Keras 3 weight name -> tfjs weight name, where they differ; tf.keras 2 already uses the tfjs names.
    weight_names: Dict[str, str] = field(default_factory=dict)
    tfjs_class: Optional[str] = None
    # How a call passes its input tensors: "tensor" (one), "list" (merges: one list of tensors) or
    # "attention" (query, value and key as separate arguments; self-attention passes one tensor twice).
    call_inputs: str = "tensor"
    # Why an .h5 file cannot hold the layer so that both Keras 3 and tf.keras 2 load it (None: it can).
    h5_refusal: Optional[str] = None

    @property
    def tfjs_name(self) -> str:
        return self.tfjs_class or self.keras_class

    def to_tfjs(self, layer_name: str, config: Config, flavor: str) -> Config:
        """The tfjs config of a Keras layer config (name and trainable included)."""
        for check in self.checks:
            reason = check(config)
            if reason is not None:
                raise Unsupported(layer_name, self.keras_class, reason)
        converted: Config = {"name": layer_name, "trainable": bool(config.get("trainable", True))}
        for item in self.fields:
            keras_key = item.keras_key(flavor)
            try:
                converted[item.tfjs_key] = _to_tfjs_value(item, item.default if keras_key is None else config.get(keras_key, item.default))
            except _Refusal as refusal:
                raise Unsupported(layer_name, self.keras_class, str(refusal)) from None
        return converted

    def to_keras(self, layer_name: str, config: Config, flavor: str) -> Config:
        """The Keras constructor arguments of a tfjs config (name and trainable included)."""
        arguments: Config = {"name": layer_name, "trainable": bool(config.get("trainable", True))}
        for item in self.fields:
            keras_key = item.keras_key(flavor)
            if item.tfjs_key not in config or keras_key is None:
                continue
            try:
                arguments[keras_key] = _to_keras_value(item, config[item.tfjs_key])
            except _Refusal as refusal:
                raise Unsupported(layer_name, self.tfjs_name, str(refusal)) from None
        return arguments

    def tfjs_weight_name(self, keras_name: str) -> str:
        return self.weight_names.get(keras_name, keras_name)


REGISTRY: Dict[str, LayerMapping] = {}


def _register(mapping: LayerMapping) -> None:
    REGISTRY[mapping.keras_class] = mapping


def weight_name_in_layer(variable: Any, layer_name: str) -> str:
    """A weight's name inside its layer: 'kernel', or 'query/kernel' for a weight of a sublayer.

    Keras 3 gives the path ('attention/query/kernel'), tf.keras 2 the name ('conv/kernel:0')."""
    full = str(getattr(variable, "path", None) or variable.name).split(":")[0]
    parts = full.split("/")
    inside = parts[parts.index(layer_name) + 1:] if layer_name in parts[:-1] else parts[-1:]
    return "/".join(inside)


def mapping_for_keras(class_name: str) -> Optional[LayerMapping]:
    return REGISTRY.get(class_name)


def mapping_for_tfjs(class_name: str) -> Optional[LayerMapping]:
    return next((mapping for mapping in REGISTRY.values() if mapping.tfjs_name == class_name), None)


def supported_classes() -> Tuple[str, ...]:
    return tuple(sorted(REGISTRY))


def _equals(key: str, expected: Any, why: str) -> Check:
    def check(config: Config) -> Optional[str]:
        value = config.get(key, expected)
        return None if value == expected else f"{key}={_describe(value)} is not supported ({why})"

    return check


def _absent(key: str, why: str) -> Check:
    def check(config: Config) -> Optional[str]:
        value = config.get(key)
        return None if value in (None, 0, False) else f"{key}={_describe(value)} is not supported ({why})"

    return check


def _scalar(key: str) -> Check:
    def check(config: Config) -> Optional[str]:
        value = config.get(key)
        return None if isinstance(value, (int, float)) else f"{key}={_describe(value)} is not supported (tfjs-layers takes one number)"

    return check


def _single_axis(config: Config) -> Optional[str]:
    axis = config.get("axis", -1)
    if isinstance(axis, (list, tuple)):
        if len(axis) != 1:
            return f"axis={list(axis)} is not supported (one axis only)"
    return None


_CONV_COMMON = (
    _plain("kernel_size"),
    _plain("strides"),
    _plain("padding"),
    _plain("data_format"),
    _plain("dilation_rate"),
    _activation(),
    _plain("use_bias", default=True),
    _initializer("bias_initializer"),
    _regularizer("bias_regularizer"),
    _regularizer("activity_regularizer"),
    _constraint("bias_constraint"),
)

_register(LayerMapping(
    "Conv2D",
    fields=(
        _plain("filters"),
        *_CONV_COMMON,
        _initializer("kernel_initializer"),
        _regularizer("kernel_regularizer"),
        _constraint("kernel_constraint"),
    ),
    checks=(_equals("groups", 1, "tfjs-layers has no grouped convolution"),),
))

_register(LayerMapping(
    "DepthwiseConv2D",
    fields=(
        _plain("depth_multiplier", default=1),
        *_CONV_COMMON,
        _initializer("depthwise_initializer"),
        _regularizer("depthwise_regularizer"),
        _constraint("depthwise_constraint"),
    ),
    weight_names={"kernel": "depthwise_kernel"},
))

_register(LayerMapping(
    "SeparableConv2D",
    fields=(
        _plain("filters"),
        _plain("depth_multiplier", default=1),
        *_CONV_COMMON,
        _initializer("depthwise_initializer"),
        _initializer("pointwise_initializer"),
        _regularizer("depthwise_regularizer"),
        _regularizer("pointwise_regularizer"),
        _constraint("depthwise_constraint"),
        _constraint("pointwise_constraint"),
    ),
))

_register(LayerMapping(
    "Dense",
    fields=(
        _plain("units"),
        _activation(),
        _plain("use_bias", default=True),
        _initializer("kernel_initializer"),
        _initializer("bias_initializer"),
        _regularizer("kernel_regularizer"),
        _regularizer("bias_regularizer"),
        _regularizer("activity_regularizer"),
        _constraint("kernel_constraint"),
        _constraint("bias_constraint"),
    ),
    checks=(_absent("lora_rank", "LoRA adapters"), _absent("quantization_config", "quantized layers")),
))

# The learned shift (beta) and scale (gamma) both normalizations share.
_SHIFT_AND_SCALE = (
    _plain("center", default=True),
    _plain("scale", default=True),
    _initializer("beta_initializer"),
    _initializer("gamma_initializer"),
    _regularizer("beta_regularizer"),
    _regularizer("gamma_regularizer"),
)

_register(LayerMapping(
    "BatchNormalization",
    fields=(
        _axis(),
        _plain("momentum"),
        _plain("epsilon"),
        *_SHIFT_AND_SCALE,
        _initializer("moving_mean_initializer"),
        _initializer("moving_variance_initializer"),
        _constraint("beta_constraint"),
        _constraint("gamma_constraint"),
    ),
    checks=(_single_axis, _absent("renorm", "batch renormalization"), _absent("virtual_batch_size", "ghost batch normalization")),
))

_register(LayerMapping("Activation", fields=(_activation(),)))

_register(LayerMapping(
    "ReLU",
    fields=(_plain("max_value"),),
    checks=(
        _equals("negative_slope", 0.0, "tfjs-layers' ReLU has only max_value; use LeakyReLU"),
        _equals("threshold", 0.0, "tfjs-layers' ReLU has only max_value"),
    ),
))

_register(LayerMapping(
    "LeakyReLU",
    fields=(_plain("alpha", default=0.3, keras3="negative_slope"),),
))

_register(LayerMapping("ELU", fields=(_plain("alpha", default=1.0),), checks=(_equals("alpha", 1.0, "tfjs-layers' ELU layer takes alpha=1 only"),)))
_register(LayerMapping("Softmax", fields=(_axis(),), checks=(_single_axis,)))
_register(LayerMapping("Dropout", fields=(_plain("rate"), _plain("noise_shape"), _plain("seed"))))
_register(LayerMapping("Flatten", fields=(_plain("data_format", default="channels_last"),)))
_register(LayerMapping("Reshape", fields=(_plain("target_shape"),)))

_POOLING = (_plain("pool_size"), _plain("padding"), _plain("strides"), _plain("data_format"))
_register(LayerMapping("MaxPooling2D", fields=_POOLING))
_register(LayerMapping("AveragePooling2D", fields=_POOLING))

_GLOBAL_POOLING_CHECKS = (_absent("keepdims", "tfjs-layers' global pooling always drops the spatial axes"),)
_register(LayerMapping("GlobalAveragePooling2D", fields=(_plain("data_format"),), checks=_GLOBAL_POOLING_CHECKS))
_register(LayerMapping("GlobalMaxPooling2D", fields=(_plain("data_format"),), checks=_GLOBAL_POOLING_CHECKS))

_register(LayerMapping("ZeroPadding2D", fields=(_plain("padding"), _plain("data_format"))))
_register(LayerMapping("Cropping2D", fields=(_plain("cropping"), _plain("data_format"))))
_register(LayerMapping(
    "UpSampling2D",
    fields=(_plain("size"), _plain("data_format"), _plain("interpolation", default="nearest")),
    checks=(lambda config: None if config.get("interpolation", "nearest") in ("nearest", "bilinear") else f"interpolation='{config.get('interpolation')}' is not supported (nearest, bilinear)",),
))

for _merge in ("Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum"):
    _register(LayerMapping(_merge, call_inputs="list"))
_register(LayerMapping("Concatenate", fields=(_plain("axis", default=-1),), call_inputs="list"))

_register(LayerMapping(
    "Rescaling",
    fields=(_plain("scale"), _plain("offset", default=0.0)),
    checks=(_scalar("scale"), _scalar("offset")),
))

_register(LayerMapping(
    "LayerNormalization",
    fields=(
        _axis(),
        _plain("epsilon", default=1e-3),
        *_SHIFT_AND_SCALE,
    ),
    checks=(
        _single_axis,
        _absent("rms_scaling", "tfjs-layers' LayerNormalization always centres"),
        _absent("beta_constraint", "constraints are not carried over"),
        _absent("gamma_constraint", "constraints are not carried over"),
    ),
))

_register(LayerMapping(
    "MultiHeadAttention",
    fields=(
        _plain("num_heads"),
        _plain("key_dim"),
        _plain("value_dim"),
        _plain("dropout", default=0.0),
        _plain("use_bias", default=True),
        _plain("output_shape"),
        _plain("attention_axes"),
        _initializer("kernel_initializer"),
        _initializer("bias_initializer"),
        _regularizer("kernel_regularizer"),
        _regularizer("bias_regularizer"),
        _constraint("kernel_constraint"),
        _constraint("bias_constraint"),
        _plain("seed", tf_keras=None),
    ),
    checks=(
        _absent("use_gate", "gated attention"),
        _absent("sliding_window", "sliding-window attention"),
        _absent("activity_regularizer", "ippro's MultiHeadAttention has no activity regularizer"),
    ),
    call_inputs="attention",
    h5_refusal=(
        "--format h5 cannot hold it: tf.keras 2 records the value as a call argument, which Keras 3's"
        " .h5 loader does not resolve; export --format keras"
    ),
))

_register(LayerMapping(
    "GlobalAveragePooling1D",
    checks=(
        _equals("data_format", "channels_last", "tfjs-layers pools over axis 1 of [batch, steps, features]"),
        *_GLOBAL_POOLING_CHECKS,
    ),
))
