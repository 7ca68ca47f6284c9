"""ippro's token layers for Keras 3: the Keras side of @ippro/layers' ClassToken, PositionEmbedding
and TakeClassToken.

Keras has no layer that prepends a class token, adds a learned position embedding or takes the
class token out of a sequence, so a model using them needs this module imported before it is
loaded. Each layer is registered as ``ippro>NAME``, the class name @ippro/layers registers in
TensorFlow.js, with the same config keys (snake_case here, camelCase in tfjs) and weights.
MultiHeadAttention, LayerNormalization, Dense(activation="gelu"), Conv2D and Reshape are Keras's own.
"""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="ippro")
class ClassToken(keras.layers.Layer):
    """[batch, tokens, d] -> [batch, tokens + 1, d]: the learned weight ``token`` [d] becomes token 0."""

    def __init__(self, token_initializer="zeros", **kwargs):
        super().__init__(**kwargs)
        self.token_initializer = keras.initializers.get(token_initializer)

    def build(self, input_shape):
        self.token = self.add_weight(name="token", shape=(input_shape[-1],), initializer=self.token_initializer)

    def call(self, x):
        token = ops.reshape(self.token, (1, 1, -1))
        token = ops.broadcast_to(token, (ops.shape(x)[0], 1, ops.shape(x)[-1]))
        return ops.concatenate([token, x], axis=1)

    def compute_output_shape(self, input_shape):
        tokens = None if input_shape[1] is None else input_shape[1] + 1
        return (input_shape[0], tokens, *input_shape[2:])

    def get_config(self):
        return {**super().get_config(), "token_initializer": keras.initializers.serialize(self.token_initializer)}


@keras.saving.register_keras_serializable(package="ippro")
class PositionEmbedding(keras.layers.Layer):
    """x + embeddings, with the learned weight ``embeddings`` of the input's shape without the batch axis."""

    def __init__(self, embeddings_initializer=None, **kwargs):
        super().__init__(**kwargs)
        if embeddings_initializer is None:
            embeddings_initializer = keras.initializers.RandomNormal(mean=0.0, stddev=0.02)
        self.embeddings_initializer = keras.initializers.get(embeddings_initializer)

    def build(self, input_shape):
        self.embeddings = self.add_weight(
            name="embeddings", shape=tuple(input_shape[1:]), initializer=self.embeddings_initializer
        )

    def call(self, x):
        return x + self.embeddings

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "embeddings_initializer": keras.initializers.serialize(self.embeddings_initializer),
        }


@keras.saving.register_keras_serializable(package="ippro")
class TakeClassToken(keras.layers.Layer):
    """[batch, tokens, d] -> [batch, d]: token 0."""

    def call(self, x):
        return x[:, 0, :]

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[-1])
