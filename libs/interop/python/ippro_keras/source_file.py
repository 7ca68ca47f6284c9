"""What a Keras model file is, read before Keras loads it: its format, the Keras that wrote it and
its model config. A file from a Keras outside the supported range is refused here, naming both."""

import json
import os
import zipfile
from dataclasses import dataclass
from typing import Any, Dict, Tuple

from .errors import BadInput
from .environment import PINNED


@dataclass(frozen=True)
class SourceModel:
    path: str
    file_format: str  # "keras" (Keras 3 archive) or "h5" (HDF5, tf.keras 2 or Keras 3)
    keras_version: str
    # "keras3" or "tf_keras": the Keras that wrote the file, and so the one that loads it.
    flavor: str
    config: Dict[str, Any]


def _version_tuple(version: str) -> Tuple[int, ...]:
    parts = []
    for piece in version.split("-")[0].split("."):
        digits = "".join(ch for ch in piece if ch.isdigit())
        parts.append(int(digits) if digits else 0)
    return tuple(parts)


def supported_versions() -> str:
    keras3 = _version_tuple(PINNED["keras"])
    return f".keras from Keras 3.0 to {keras3[0]}.{keras3[1]}; .h5 from tf.keras 2.x (TensorFlow backend) or Keras 3.0 to {keras3[0]}.{keras3[1]}"


def _check_keras3(path: str, version: str) -> None:
    newest = _version_tuple(PINNED["keras"])[:2]
    found = _version_tuple(version)
    if found[0] != 3 or found[:2] > newest:
        raise BadInput(f"{path} was written by Keras {version}; supported: {supported_versions()}")


def read_source(path: str) -> SourceModel:
    if os.path.isdir(path):
        raise BadInput(f"{path} is a directory (a SavedModel?); save the model as a .keras file (model.save('model.keras')) or as .h5")
    if not os.path.isfile(path):
        raise BadInput(f"{path} does not exist")
    lowered = path.lower()
    if lowered.endswith(".keras"):
        return _read_keras_archive(path)
    if lowered.endswith((".h5", ".hdf5")):
        return _read_hdf5(path)
    raise BadInput(f"{path} is neither a .keras nor an .h5 file")


def _read_keras_archive(path: str) -> SourceModel:
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            for required in ("metadata.json", "config.json"):
                if required not in names:
                    raise BadInput(f"{path} is not a Keras 3 archive: it has no {required}")
            metadata = json.loads(archive.read("metadata.json"))
            config = json.loads(archive.read("config.json"))
    except zipfile.BadZipFile:
        raise BadInput(f"{path} is not a .keras archive (not a zip file)") from None
    except json.JSONDecodeError as error:
        raise BadInput(f"{path}: malformed JSON inside the archive ({error})") from None
    version = str(metadata.get("keras_version", ""))
    if not version:
        raise BadInput(f"{path}: metadata.json names no keras_version")
    _check_keras3(path, version)
    return SourceModel(path, "keras", version, "keras3", config)


def _read_hdf5(path: str) -> SourceModel:
    import h5py

    try:
        with h5py.File(path, "r") as handle:
            attributes = {key: handle.attrs[key] for key in ("keras_version", "backend", "model_config") if key in handle.attrs}
    except OSError as error:
        raise BadInput(f"{path} is not an HDF5 file ({error})") from None
    text = {key: value.decode("utf-8") if isinstance(value, bytes) else str(value) for key, value in attributes.items()}
    if "model_config" not in text:
        raise BadInput(f"{path} holds weights only (no model config); save the whole model (model.save)")
    version = text.get("keras_version", "")
    if not version:
        raise BadInput(f"{path} names no keras_version; supported: {supported_versions()}")
    backend = text.get("backend", "tensorflow")
    if backend != "tensorflow":
        raise BadInput(f"{path} was written by Keras {version} with the {backend} backend; supported: {supported_versions()}")
    major = _version_tuple(version)[0]
    if major == 3:
        _check_keras3(path, version)
        flavor = "keras3"
    elif major == 2:
        flavor = "tf_keras"
    else:
        raise BadInput(f"{path} was written by Keras {version}; supported: {supported_versions()}")
    try:
        config = json.loads(text["model_config"])
    except json.JSONDecodeError as error:
        raise BadInput(f"{path}: malformed model_config ({error})") from None
    return SourceModel(path, "h5", version, flavor, config)
