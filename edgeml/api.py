"""The Python entry points: load a model, prepare it for a reference's numerics, run it."""

from __future__ import annotations

import os
from pathlib import Path

from edgeml.errors import ModelFormatError
from edgeml.ir.graph import Graph
from edgeml.ops.base import Numerics
from edgeml.runtime.program import Program, prepare_program


def load(path: str | os.PathLike) -> Graph:
    """Convert a model file into the IR, choosing the converter by its extension."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".tflite":
        from edgeml.converters.tflite import load_tflite

        return load_tflite(path)
    raise ModelFormatError(f"{path}: unknown model format '{suffix}'; supported: .tflite")


def compile_model(path: str | os.PathLike, numerics: Numerics | str = Numerics.TFLITE) -> Program:
    return prepare_program(load(path), Numerics(numerics))
