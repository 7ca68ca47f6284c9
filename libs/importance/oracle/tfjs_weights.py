"""Reads a TensorFlow.js LayersModel directory's weights (model.json manifest + weights files) in float64."""
import json
import os

import numpy as np


def read_weights(directory):
    """{weight name: float64 array of its shape}, in manifest order (float32 little endian on disk)."""
    with open(os.path.join(directory, 'model.json')) as handle:
        manifest = json.load(handle)['weightsManifest']
    params = {}
    for group in manifest:
        raw = np.concatenate([np.fromfile(os.path.join(directory, path), dtype='<f4') for path in group['paths']])
        offset = 0
        for spec in group['weights']:
            size = int(np.prod(spec['shape']))
            params[spec['name']] = raw[offset:offset + size].astype(np.float64).reshape(spec['shape'])
            offset += size
    return params
