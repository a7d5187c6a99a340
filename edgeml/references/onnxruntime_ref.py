"""onnxruntime's CPU execution provider started as a user starts it: default graph optimizations
(which fuse QDQ groups into the QLinear kernels whose arithmetic edgeml reproduces), one thread.

Where onnxruntime itself is not exact, edgeml computes the ONNX-defined integer result instead:
on x86 without AVX-VNNI (this machine: AVX2), MLAS multiplies uint8 x int8 with vpmaddubsw, whose
int16 pair sums saturate for large weights, and its x86 build rewrites int8-activation QDQ groups
to that form (QDQS8ToU8Transformer). Models stored uint8 x uint8 (edgeml's quantizer writes them
so) and operator-form int8 x int8 models run exact kernels and match bit for bit.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from edgeml.errors import ReferenceError_
from edgeml.references.base import ReferenceRun, ReferenceRuntime


class OnnxRuntimeReference(ReferenceRuntime):
    name = "onnxruntime"

    def __init__(self, model_bytes: bytes, path: str, tensor_names: Sequence[str] = ()):
        """tensor_names[k] is the ONNX value that edgeml tensors with origin k stand for."""
        self._path = path
        self._model_bytes = model_bytes
        self._tensor_names = list(tensor_names)
        self._session = self._open(model_bytes)
        self._traced = None

    def _open(self, model_bytes: bytes):
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        try:
            return ort.InferenceSession(model_bytes, options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own exception types (Fail, InvalidGraph, ...)
            raise ReferenceError_(f"{self._path}: onnxruntime refuses the model: {exc}") from None

    def run(self, inputs: Sequence[np.ndarray], *, keep_tensors: bool = False) -> ReferenceRun:
        session = self._traced_session() if keep_tensors else self._session
        feed = {detail.name: value for detail, value in zip(session.get_inputs(), inputs, strict=True)}
        try:
            values = session.run(None, feed)
        except Exception as exc:
            raise ReferenceError_(f"{self._path}: onnxruntime failed to run: {exc}") from None
        names = [o.name for o in session.get_outputs()]
        by_name = dict(zip(names, values, strict=True))
        count = len(self._session.get_outputs())
        tensors: dict[int, np.ndarray] = {}
        if keep_tensors:
            for origin, name in enumerate(self._tensor_names):
                if name in by_name:
                    tensors[origin] = np.asarray(by_name[name])
        return ReferenceRun([np.asarray(v) for v in values[:count]], tensors)

    def _traced_session(self):
        """The model with every integer tensor edgeml names also exposed as an output. Only quantized
        values are exposed: a float value between DequantizeLinear and QuantizeLinear would stop
        onnxruntime from fusing that group and change the arithmetic being compared."""
        if self._traced is None:
            import onnx

            model = onnx.load_from_string(self._model_bytes)
            inferred = onnx.shape_inference.infer_shapes(model)
            types = {v.name: v.type for v in (*inferred.graph.value_info, *inferred.graph.input)}
            present = {o.name for o in model.graph.output}
            integer = {onnx.TensorProto.INT8, onnx.TensorProto.UINT8, onnx.TensorProto.INT32}
            for name in self._tensor_names:
                kind = types.get(name)
                if name in present or kind is None or kind.tensor_type.elem_type not in integer:
                    continue
                model.graph.output.append(onnx.ValueInfoProto(name=name, type=kind))
                present.add(name)
            self._traced = self._open(model.SerializeToString())
        return self._traced
