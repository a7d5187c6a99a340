"""ONNX sources: quantized models are lowered as they are; float models are first quantized by
edgeml's own post-training quantizer on the calibration data."""

from __future__ import annotations

import os
from pathlib import Path

from edgeml.converters.onnx import is_quantized_onnx, load_onnx
from edgeml.ir.graph import Graph


def load_onnx_source(path: str | os.PathLike, calibration: str | os.PathLike | None = None) -> Graph:
    from edgeml.converters.onnx_load import read_onnx

    path = Path(path)
    read_onnx(path)  # clear errors for unreadable files before anything else
    if is_quantized_onnx(path):
        return load_onnx(path)
    from edgeml.converters.onnx_quantize import quantize_onnx_to_graph

    return quantize_onnx_to_graph(path, calibration)
