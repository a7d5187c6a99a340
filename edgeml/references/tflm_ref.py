"""TensorFlow Lite Micro's reference kernels, through the tflite-micro Python package."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from edgeml.errors import ReferenceError_
from edgeml.references.base import ReferenceRun, ReferenceRuntime

# TFLM has no way to ask for the arena it needs; this is generous for every model edgeml targets.
DEFAULT_ARENA = 16 * 1024 * 1024


class TFLMReference(ReferenceRuntime):
    name = "tflm"

    def __init__(self, model_bytes: bytes, path: str, num_tensors: int, num_outputs: int,
                 arena_size: int = DEFAULT_ARENA):
        # The Python binding crashes on out-of-range indices, so the counts come from our own parse.
        self._num_tensors = num_tensors
        self._num_outputs = num_outputs
        self._bytes = model_bytes
        self._path = path
        self._arena = arena_size
        self._plain = None
        self._preserving = None

    def _interpreter(self, preserve: bool):
        from tflite_micro import runtime

        attr = "_preserving" if preserve else "_plain"
        interp = getattr(self, attr)
        if interp is None:
            config = (runtime.InterpreterConfig.kPreserveAllTensors if preserve
                      else runtime.InterpreterConfig.kAllocationRecording)
            try:
                interp = runtime.Interpreter.from_bytes(
                    self._bytes, arena_size=self._arena, intrepreter_config=config)
            except (RuntimeError, ValueError) as exc:
                raise ReferenceError_(f"{self._path}: TFLite Micro refuses the model: {exc}") from None
            setattr(self, attr, interp)
        return interp

    def run(self, inputs: Sequence[np.ndarray], *, keep_tensors: bool = False) -> ReferenceRun:
        interp = self._interpreter(keep_tensors)
        interp.reset()
        for k, value in enumerate(inputs):
            interp.set_input(value, k)
        try:
            interp.invoke()
        except RuntimeError as exc:
            raise ReferenceError_(f"{self._path}: TFLite Micro failed to run: {exc}") from None
        outputs = [np.array(interp.get_output(k)) for k in range(self._num_outputs)]
        tensors: dict[int, np.ndarray] = {}
        if keep_tensors:
            for index in range(self._num_tensors):
                value = interp.GetTensor(index, 0)
                if value is not None:
                    data = np.asarray(value["tensor_data"])
                    tensors[index] = data.reshape(tuple(value["shape"])) if data.size else data
        return ReferenceRun(outputs, tensors)
