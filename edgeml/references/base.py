"""The interface every reference runtime implements."""

from __future__ import annotations

import abc
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from edgeml.errors import EdgemlError


@dataclass(eq=False)
class ReferenceRun:
    outputs: list[np.ndarray]
    # Intermediate tensor values by the source model's tensor index (when asked for).
    tensors: dict[int, np.ndarray]


class ReferenceRuntime(abc.ABC):
    name: str

    @abc.abstractmethod
    def run(self, inputs: Sequence[np.ndarray], *, keep_tensors: bool = False) -> ReferenceRun: ...


def get_reference(name: str, model_bytes: bytes, path: str, num_tensors: int, num_outputs: int,
                  tensor_names: Sequence[str] = ()) -> ReferenceRuntime:
    if name == "tflite":
        from edgeml.references.tflite_ref import TFLiteReference

        return TFLiteReference(model_bytes, path)
    if name == "tflm":
        from edgeml.references.tflm_ref import TFLMReference

        return TFLMReference(model_bytes, path, num_tensors, num_outputs)
    if name == "onnxruntime":
        from edgeml.references.onnxruntime_ref import OnnxRuntimeReference

        return OnnxRuntimeReference(model_bytes, path, tensor_names)
    raise EdgemlError(f"unknown reference '{name}'; choose tflite, tflm or onnxruntime")
