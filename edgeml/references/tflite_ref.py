"""ai-edge-litert with its builtin *reference* kernels (never XNNPACK: that is a different answer)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from edgeml.errors import ReferenceError_
from edgeml.references.base import ReferenceRun, ReferenceRuntime


class TFLiteReference(ReferenceRuntime):
    name = "tflite"

    def __init__(self, model_bytes: bytes, path: str, *, optimized: bool = False):
        from ai_edge_litert.interpreter import Interpreter, OpResolverType

        resolver = OpResolverType.BUILTIN if optimized else OpResolverType.BUILTIN_REF
        try:
            self._interp = Interpreter(
                model_content=model_bytes, experimental_op_resolver_type=resolver,
                experimental_preserve_all_tensors=True, num_threads=1,
            )
            self._interp.allocate_tensors()
        except (ValueError, RuntimeError) as exc:
            raise ReferenceError_(f"{path}: ai-edge-litert refuses the model: {exc}") from None
        self._path = path

    def run(self, inputs: Sequence[np.ndarray], *, keep_tensors: bool = False) -> ReferenceRun:
        interp = self._interp
        for detail, value in zip(interp.get_input_details(), inputs, strict=True):
            interp.set_tensor(detail["index"], value)
        try:
            interp.invoke()
        except RuntimeError as exc:
            raise ReferenceError_(f"{self._path}: ai-edge-litert failed to run: {exc}") from None
        outputs = [interp.get_tensor(d["index"]).copy() for d in interp.get_output_details()]
        tensors: dict[int, np.ndarray] = {}
        if keep_tensors:
            for detail in interp.get_tensor_details():
                try:
                    tensors[detail["index"]] = interp.get_tensor(detail["index"]).copy()
                except ValueError:
                    continue
        return ReferenceRun(outputs, tensors)
