"""The pinned versions (requirements.txt beside this package) and a check that the running
environment has them: a converter on another Keras or TensorFlow is refused, naming both."""

import importlib.metadata
import os
import platform
import sys
from typing import Dict

from .errors import BadInput

REQUIREMENTS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "requirements.txt")
SETUP_COMMAND = "npm run setup:keras"
# The distributions whose code the converter runs; the rest of requirements.txt is what they need.
CHECKED = ("keras", "tensorflow-cpu", "tf-keras", "h5py", "numpy")


def _read_pins() -> Dict[str, str]:
    pins = {}
    with open(REQUIREMENTS, encoding="utf-8") as handle:
        for line in handle:
            line = line.split("#", 1)[0].strip()
            if "==" in line:
                name, version = line.split("==", 1)
                pins[name.strip().lower().replace("_", "-")] = version.strip()
    return pins


PINNED = _read_pins()


def installed_versions() -> Dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in CHECKED:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "missing"
    return versions


def check_environment() -> Dict[str, str]:
    """The versions found; BadInput when one differs from its pin."""
    versions = installed_versions()
    wrong = [f"{name} {versions[name]} (needs {PINNED[name]})" for name in CHECKED if versions[name] != PINNED[name]]
    if wrong:
        raise BadInput(f"the Python environment at {sys.prefix} has {', '.join(wrong)}: run {SETUP_COMMAND}")
    return versions
