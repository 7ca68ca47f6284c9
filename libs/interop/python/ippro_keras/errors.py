"""The two ways a request fails: the input cannot be used (exit code 2), or the work failed."""


class BadInput(Exception):
    """A file, layer, setting or version ippro cannot use; the message names it in one line."""


class Unsupported(BadInput):
    """A layer, or a setting of one, that has no TensorFlow.js counterpart ippro can write."""

    def __init__(self, layer_name: str, class_name: str, reason: str):
        super().__init__(f"layer '{layer_name}' ({class_name}): {reason}")
