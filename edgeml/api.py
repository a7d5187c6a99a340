"""The Python entry points: load a model, prepare it for a reference's numerics, run it."""

from __future__ import annotations

import os
from pathlib import Path

from edgeml.errors import ModelFormatError
from edgeml.ir.graph import Graph
from edgeml.ops.base import Numerics
from edgeml.runtime.program import Program, prepare_program


def load(path: str | os.PathLike, calibration: str | os.PathLike | None = None) -> Graph:
    """Convert a model into the IR, choosing the converter by its extension. Float sources (Keras,
    SavedModel) are quantized to int8 on CALIBRATION data (.npy/.npz or a directory of them)."""
    from edgeml.converters.keras import is_keras_source

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".tflite":
        from edgeml.converters.tflite import load_tflite

        return load_tflite(path)
    if suffix == ".onnx":
        from edgeml.converters.onnx_source import load_onnx_source

        return load_onnx_source(path, calibration)
    if is_keras_source(path):
        from edgeml.converters.keras import load_keras

        return load_keras(path, calibration)
    raise ModelFormatError(f"{path}: unknown model format '{suffix or 'directory'}'; supported: .tflite, .onnx, "
                           ".keras, .h5 and SavedModel directories")


def compile_model(path: str | os.PathLike, numerics: Numerics | str | None = None,
                  calibration: str | os.PathLike | None = None) -> Program:
    """numerics None: the model's own reference (onnxruntime for ONNX, tflite otherwise)."""
    graph = load(path, calibration)
    return prepare_program(graph, Numerics(numerics or graph.native_numerics))
