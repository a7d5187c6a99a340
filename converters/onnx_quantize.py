"""edgeml's post-training quantizer for float ONNX models.

The float graph is cleaned up first (constants folded, Identity/Dropout removed, BatchNormalization
folded into the Conv or MatMul before it, MatMul + bias Add merged into Gemm, Clip(0, x) turned into
Relu over a range that ends at x), then calibrated by running it in onnxruntime with every
intermediate value exposed. The result is a QDQ model: int8 weights quantized per output channel
and symmetrically, int32 biases at scale s_x * s_w, int8 activations (asymmetric, min-max or
percentile ranges), and a Relu after Conv/Gemm absorbed into a range that starts at 0. onnxruntime
runs it as it is, and edgeml lowers it with converters/onnx.py, bit-exactly.

Storage is uint8 for both activations and weights: the weights are symmetric int8 values stored with
a zero point of 128, activations asymmetric. The numbers are the int8 ones (edgeml computes them as
int8); the storage is what onnxruntime's x86 kernels compute exactly. With int8 activations its x86
build rewrites QDQ groups to uint8 x int8 (vpmaddubsw, whose int16 pair sums saturate on AVX2
without VNNI), and with that rewrite disabled it leaves them unfused, in float; uint8 x uint8 runs
its exact integer GEMM.

A Softmax that ends the model stays out of the int8 program: it is monotonic, so top-1 is unchanged,
and the program's outputs are the logits. edgeml says so when it drops one.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgeml.calibration import Calibration, InputSpec, load_calibration
from edgeml.converters.onnx_load import StaticModel, read_onnx
from edgeml.errors import UnsupportedOpError

QMIN, QMAX = 0, 255  # uint8 storage (see the module docstring)
WEIGHT_MAX = 127  # symmetric weights use [-127, 127] ...
WEIGHT_ZERO_POINT = 128  # ... stored as uint8 around 128
_WEIGHTED = {"Conv", "Gemm", "MatMul"}
_BINARY = {"Add", "Mul"}
_MOVERS = {"Reshape", "Flatten", "MaxPool", "Transpose", "Squeeze", "Unsqueeze"}
METHODS = ("minmax", "percentile")


@dataclass(frozen=True)
class QuantizeOptions:
    method: str = "minmax"  # or "percentile"
    percentile: float = 99.99  # of |x| per tensor, for method "percentile"


@dataclass(frozen=True)
class QuantizedOnnx:
    qdq: bytes  # the int8 QDQ model
    float_model: bytes  # the cleaned-up float model it was calibrated on (same outputs as the QDQ model)


def quantize_onnx(path: str | os.PathLike, calibration: str | os.PathLike | None = None,
                  options: QuantizeOptions = QuantizeOptions()) -> QuantizedOnnx:
    """The QDQ int8 model (serialized ONNX) of the float model at PATH."""
    import onnx

    static = read_onnx(path)
    _check_float(static)
    caps = _clean_up(static)
    float_model = static.model.SerializeToString()
    samples = _calibration(static, calibration)
    ranges = _calibrate(static.model, samples, options, [s.name for s in input_specs(static)], caps)
    qdq = _QdqWriter(static, ranges).write()
    onnx.checker.check_model(qdq)
    return QuantizedOnnx(qdq.SerializeToString(), float_model)


def quantize_onnx_to_graph(path: str | os.PathLike, calibration: str | os.PathLike | None = None):
    """The IR of edgeml's int8 quantization of the float ONNX model at PATH; its reference model is
    the QDQ model, so compare and verify use what edgeml actually runs."""
    import tempfile

    from edgeml.converters.onnx import load_onnx

    blob = quantize_onnx(path, calibration).qdq
    with tempfile.TemporaryDirectory(prefix="edgeml-") as tmp:
        qdq_path = Path(tmp) / (Path(path).stem + ".int8.onnx")
        qdq_path.write_bytes(blob)
        graph = load_onnx(qdq_path)
    graph.source_path = str(path)
    graph.name = Path(path).stem
    return graph


def input_specs(static: StaticModel) -> list[InputSpec]:
    return [InputSpec(v.name, static.shapes[v.name]) for v in static.graph.input if v.name not in static.constants]


def _check_float(static: StaticModel) -> None:
    for value in static.graph.input:
        if value.name not in static.constants and static.elem_types.get(value.name) != 1:
            raise UnsupportedOpError(f"{static.path}: input '{value.name}' is not float32; edgeml quantizes "
                                     "float models (an integer model is read as it is)")


# ---------------------------------------------------------------------------------------------
# Graph clean-up on the float model


def _clean_up(static: StaticModel) -> dict[str, float]:
    """Rewrite the float graph in place; returns the range caps of Clips turned into Relus."""
    graph = static.graph
    _remove_identities(static)
    _fold_batch_norms(static)
    _fold_bias_adds(static)
    _matmul_add_to_gemm(static)
    caps = _clips_to_relus(static)
    _drop_final_softmax(static)
    del graph.initializer[:]
    import onnx

    used = {n for node in graph.node for n in node.input}
    for name, value in static.constants.items():
        if name in used:
            graph.initializer.append(onnx.numpy_helper.from_array(value, name))
    return caps


def _rename_uses(static: StaticModel, old: str, new: str) -> None:
    for node in static.graph.node:
        for i, name in enumerate(node.input):
            if name == old:
                node.input[i] = new
    for out in static.graph.output:
        if out.name == old:
            out.name = new


def _remove(static: StaticModel, doomed: list) -> None:
    kept = [n for n in static.graph.node if all(n is not d for d in doomed)]
    del static.graph.node[:]
    static.graph.node.extend(kept)


def _consumers(static: StaticModel, name: str) -> list:
    return [n for n in static.graph.node if name in n.input]


def _remove_identities(static: StaticModel) -> None:
    doomed = [n for n in static.graph.node if n.op_type in ("Identity", "Dropout")]
    for node in doomed:
        if node.output[0] in {o.name for o in static.graph.output}:
            continue
        _rename_uses(static, node.output[0], node.input[0])
    _remove(static, [n for n in doomed if n.output[0] not in {o.name for o in static.graph.output}])


def _fold_batch_norms(static: StaticModel) -> None:
    """Conv/MatMul -> BatchNormalization (inference form): the BN's scale goes into the weights and its
    shift into the bias, per output channel."""
    from edgeml.converters.onnx import _attr

    doomed = []
    for bn in [n for n in static.graph.node if n.op_type == "BatchNormalization"]:
        producer = next((n for n in static.graph.node if bn.input[0] in n.output), None)
        if producer is None or producer.op_type not in ("Conv", "MatMul", "Gemm") or len(
                _consumers(static, bn.input[0])) != 1:
            continue
        if not all(name in static.constants for name in bn.input[1:5]) or producer.input[1] not in static.constants:
            continue
        gamma, beta, mean, var = (static.constants[n].astype(np.float64) for n in bn.input[1:5])
        factor = gamma / np.sqrt(var + _attr(bn, "epsilon", 1e-5))
        weights = static.constants[producer.input[1]].astype(np.float64)
        bias_name = producer.input[2] if len(producer.input) > 2 and producer.input[2] else ""
        bias = static.constants[bias_name].astype(np.float64) if bias_name else np.zeros(factor.size)
        if producer.op_type == "Conv":
            weights = weights * factor.reshape(-1, *([1] * (weights.ndim - 1)))
        elif producer.op_type == "Gemm" and _attr(producer, "transB", 0):
            weights = weights * factor[:, None]
        else:
            weights = weights * factor[None, :]
        bias = (bias - mean) * factor + beta
        w_name = producer.output[0] + "/bn_weights"
        static.constants[w_name] = weights.astype(np.float32)
        producer.input[1] = w_name
        if producer.op_type == "MatMul":
            producer.op_type = "Gemm"
        _set_bias(static, producer, bias)
        _rename_uses(static, bn.output[0], producer.output[0])
        doomed.append(bn)
    _remove(static, doomed)


def _sole_constant_add(static: StaticModel, node) -> tuple[object, np.ndarray] | None:
    """(the Add, its constant operand) when NODE's only consumer adds a constant to it."""
    users = _consumers(static, node.output[0])
    if len(users) != 1 or users[0].op_type != "Add":
        return None
    add = users[0]
    other = add.input[1] if add.input[0] == node.output[0] else add.input[0]
    value = static.constants.get(other)
    return (add, value) if value is not None else None


def _set_bias(static: StaticModel, node, bias: np.ndarray) -> None:
    """NODE's bias input (the third) becomes BIAS, a new float32 constant."""
    name = node.output[0] + "/bias"
    static.constants[name] = bias.reshape(-1).astype(np.float32)
    if len(node.input) > 2:
        node.input[2] = name
    else:
        node.input.append(name)


def _per_channel(value: np.ndarray, channels: int) -> bool:
    """One value per channel of an NCHW tensor: shape (C,), (C, 1, 1) or (1, C, 1, 1)."""
    return value.size == channels and (value.ndim < 3 or value.shape[-1] * value.shape[-2] == 1)


def _fold_bias_adds(static: StaticModel) -> None:
    """Conv -> Add(constant of one value per output channel): the constant joins the Conv's bias."""
    doomed = []
    for node in [n for n in static.graph.node if n.op_type == "Conv" and n.input[1] in static.constants]:
        found = _sole_constant_add(static, node)
        if found is None or not _per_channel(found[1], static.constants[node.input[1]].shape[0]):
            continue
        add, value = found
        bias = value.reshape(-1).astype(np.float32)
        if len(node.input) > 2 and node.input[2]:
            bias = bias + static.constants[node.input[2]].astype(np.float32)
        _set_bias(static, node, bias)
        _rename_uses(static, add.output[0], node.output[0])
        doomed.append(add)
    _remove(static, doomed)


def _matmul_add_to_gemm(static: StaticModel) -> None:
    """MatMul(x, W) + b, W 2-D constant and x 2-D: one Gemm with a bias."""
    doomed = []
    for node in [n for n in static.graph.node if n.op_type == "MatMul"]:
        if node.input[1] not in static.constants or static.constants[node.input[1]].ndim != 2:
            continue
        if len(static.shapes.get(node.input[0], ())) != 2:
            continue
        found = _sole_constant_add(static, node)
        if found is None or found[1].size != static.constants[node.input[1]].shape[1]:
            continue
        add, bias = found
        node.op_type = "Gemm"
        _set_bias(static, node, bias)
        _rename_uses(static, add.output[0], node.output[0])
        doomed.append(add)
    _remove(static, doomed)


def _clips_to_relus(static: StaticModel) -> dict[str, float]:
    """Clip(x, 0, hi) becomes Relu; calibration then caps the range at hi (returned by output name)."""
    caps: dict[str, float] = {}
    for node in static.graph.node:
        if node.op_type != "Clip":
            continue
        bounds = [static.constants.get(n) for n in node.input[1:3]] if len(node.input) > 1 else []
        lo = float(bounds[0]) if len(bounds) > 0 and bounds[0] is not None else None
        hi = float(bounds[1]) if len(bounds) > 1 and bounds[1] is not None else None
        if lo == 0.0:
            node.op_type = "Relu"
            del node.input[1:]
            if hi is not None:
                caps[node.output[0]] = hi
    return caps


def _drop_final_softmax(static: StaticModel) -> None:
    outputs = {o.name: o for o in static.graph.output}
    for node in list(static.graph.node):
        if node.op_type == "Softmax" and node.output[0] in outputs:
            print(f"edgeml: {static.path}: the final Softmax stays in float outside the int8 program; its "
                  "outputs are the logits (top-1 is unchanged)", file=sys.stderr)
            outputs[node.output[0]].name = node.input[0]
            _remove(static, [node])


# ---------------------------------------------------------------------------------------------
# Calibration


def _calibration(static: StaticModel, calibration: str | os.PathLike | None) -> Calibration:
    return load_calibration(calibration, input_specs(static))


def _calibrate(model, data: Calibration, options: QuantizeOptions, input_names: Sequence[str],
               caps: dict[str, float]) -> dict[str, tuple[float, float]]:
    """(min, max) of every float value over the calibration samples, from onnxruntime."""
    import onnx
    import onnxruntime as ort

    if options.method not in METHODS:
        raise ValueError(f"unknown calibration method {options.method!r}; choose {', '.join(METHODS)}")
    exposed = onnx.ModelProto()
    exposed.CopyFrom(model)
    present = {o.name for o in exposed.graph.output}
    for node in exposed.graph.node:
        for name in node.output:
            if name not in present:
                exposed.graph.output.append(onnx.ValueInfoProto(name=name))
                present.add(name)
    options_ = ort.SessionOptions()
    options_.log_severity_level = 3
    session = ort.InferenceSession(exposed.SerializeToString(), options_, providers=["CPUExecutionProvider"])
    inputs = list(input_names)
    names = [o.name for o in session.get_outputs()]
    values: dict[str, list[np.ndarray]] = {n: [] for n in [*inputs, *names]}
    import click

    with click.progressbar(data.samples, label=f"calibrating on {len(data)} samples", file=sys.stderr) as bar:
        for sample in bar:
            feed = dict(zip(inputs, sample, strict=True))
            for name, value in zip(names, session.run(names, feed), strict=True):
                values[name].append(np.asarray(value).reshape(-1))
            for name, value in feed.items():
                values[name].append(np.asarray(value).reshape(-1))
    ranges = {}
    for name, chunks in values.items():
        if not chunks or chunks[0].dtype.kind != "f":
            continue
        flat = np.concatenate(chunks).astype(np.float64)
        if options.method == "percentile" and flat.size > 100:
            lo = float(np.percentile(flat, 100.0 - options.percentile))
            hi = float(np.percentile(flat, options.percentile))
        else:
            lo, hi = float(flat.min()), float(flat.max())
        cap = caps.get(name)
        ranges[name] = (lo, hi if cap is None else min(hi, cap))
    return ranges


def activation_quant(lo: float, hi: float) -> tuple[np.float32, np.uint8]:
    """Asymmetric 8-bit parameters over [lo, hi] widened to hold 0; a range of 0 gets scale 1."""
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    scale = np.float32((hi - lo) / (QMAX - QMIN)) if hi > lo else np.float32(1.0)
    zero_point = int(np.clip(np.rint(QMIN - lo / float(scale)), QMIN, QMAX))
    return scale, np.uint8(zero_point)


def weight_quant(weights: np.ndarray, axis: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel symmetric int8 weights along AXIS, stored as uint8 around 128: (values, float32 scales)."""
    moved = np.moveaxis(weights.astype(np.float64), axis, 0)
    peak = np.abs(moved.reshape(moved.shape[0], -1)).max(axis=1)
    scales = np.where(peak > 0, peak / WEIGHT_MAX, 1.0).astype(np.float32)
    shape = [1] * weights.ndim
    shape[axis] = -1
    q = np.clip(np.rint(weights / scales.reshape(shape).astype(np.float64)), -WEIGHT_MAX, WEIGHT_MAX)
    return (q + WEIGHT_ZERO_POINT).astype(np.uint8), scales


# ---------------------------------------------------------------------------------------------
# QDQ emission


class _QdqWriter:
    def __init__(self, static: StaticModel, ranges: dict[str, tuple[float, float]]):
        self.static = static
        self.ranges = ranges
        self.nodes: list = []
        self.initializers: list = []
        self.dequantized: dict[str, str] = {}  # float value -> its DQ(Q(value)) name
        self.params: dict[str, tuple[np.float32, np.uint8]] = {}

    def write(self):
        import onnx

        graph = self.static.graph
        # Each output keeps its name, now written by the DequantizeLinear that ends the int8 program;
        # the float value that held the name is renamed.
        renamed = {o.name: o.name + "/float" for o in graph.output}
        for node in graph.node:
            node.input[:] = [renamed.get(n, n) for n in node.input]
            node.output[:] = [renamed.get(n, n) for n in node.output]
        for old, new in renamed.items():
            if old in self.ranges:
                self.ranges[new] = self.ranges.pop(old)
        for node in graph.node:
            self._node(node)
        final = {self.dequantized[new]: old for old, new in renamed.items() if new in self.dequantized}
        for node in self.nodes:
            node.input[:] = [final.get(n, n) for n in node.input]
            node.output[:] = [final.get(n, n) for n in node.output]
        outputs = [onnx.helper.make_tensor_value_info(o.name, onnx.TensorProto.FLOAT, self.static.shapes.get(o.name))
                   for o in graph.output]
        inputs = [i for i in graph.input if i.name not in self.static.constants]
        new_graph = onnx.helper.make_graph(self.nodes, graph.name or "edgeml", inputs, outputs, self.initializers)
        opset = max([13, *(o.version for o in self.static.model.opset_import if o.domain in ("", "ai.onnx"))])
        return onnx.helper.make_model(new_graph, opset_imports=[onnx.helper.make_opsetid("", opset)],
                                      ir_version=8, producer_name="edgeml")

    def _const(self, name: str, value: np.ndarray) -> str:
        import onnx

        self.initializers.append(onnx.numpy_helper.from_array(np.asarray(value), name))
        return name

    def _qdq(self, name: str, params: tuple[np.float32, np.uint8] | None = None) -> str:
        """DQ(Q(name)) with the value's calibrated parameters (or PARAMS); created once per value."""
        import onnx

        if name in self.dequantized:
            return self.dequantized[name]
        if params is None:
            if name not in self.ranges:
                raise UnsupportedOpError(f"{self.static.path}: no calibration range for '{name}'")
            params = activation_quant(*self.ranges[name])
        self.params[name] = params
        scale = self._const(f"{name}/scale", np.array(params[0], np.float32))
        zp = self._const(f"{name}/zero_point", np.array(params[1], np.uint8))
        self.nodes.append(onnx.helper.make_node("QuantizeLinear", [name, scale, zp], [f"{name}/q"]))
        self.nodes.append(onnx.helper.make_node("DequantizeLinear", [f"{name}/q", scale, zp], [f"{name}/dq"]))
        self.dequantized[name] = f"{name}/dq"
        return f"{name}/dq"

    def _node(self, node) -> None:
        import onnx

        op = node.op_type
        if op == "Relu" and node.output[0] in self.ranges:
            self._relu_or_fused(node)
            return
        if op in _WEIGHTED:
            self._weighted(node)
            return
        if op in _BINARY:
            inputs = [self._float_operand(n) for n in node.input]
            self.nodes.append(onnx.helper.make_node(op, inputs, [node.output[0]], name=node.name))
            if not self._relu_follows(node.output[0]):
                self._qdq(node.output[0])
            return
        if op in ("GlobalAveragePool", "Sigmoid"):
            source = self._qdq(node.input[0])
            self.nodes.append(onnx.helper.make_node(op, [source], [node.output[0]], name=node.name))
            self._qdq(node.output[0])
            return
        if op in _MOVERS:
            source = self._qdq(node.input[0])
            rest = [self._const(f"{node.output[0]}/{k}", self.static.constants[n]) if n in self.static.constants
                    else n for k, n in enumerate(node.input[1:], 1)]
            copy = onnx.helper.make_node(op, [source, *rest], [node.output[0]], name=node.name)
            copy.attribute.extend(node.attribute)
            self.nodes.append(copy)
            self._qdq(node.output[0], self.params[node.input[0]])
            return
        raise UnsupportedOpError(f"{self.static.path}: node '{node.name or node.output[0]}' ({op}): edgeml's "
                                 f"quantizer has no int8 form for {op} (supported: Conv, Gemm/MatMul, Add, Mul, "
                                 "Relu/Clip after them, Sigmoid, MaxPool, GlobalAveragePool, "
                                 "Reshape/Flatten/Transpose, a final Softmax)")

    def _float_operand(self, name: str) -> str:
        if name in self.static.constants:
            value = self.static.constants[name].astype(np.float64)
            params = activation_quant(float(value.min()), float(value.max()))
            q = np.clip(np.rint(value / params[0]) + params[1], QMIN, QMAX).astype(np.uint8)
            return self._dequantize_const(name, q, np.array(params[0], np.float32), np.array(params[1], np.uint8))
        return self._qdq(name)

    def _dequantize_const(self, name: str, q: np.ndarray, scale: np.ndarray, zp: np.ndarray, axis: int = 1) -> str:
        import onnx

        q_name = self._const(f"{name}/quantized", q)
        s_name = self._const(f"{name}/q_scale", scale)
        z_name = self._const(f"{name}/q_zero_point", zp)
        kwargs = {"axis": axis} if scale.size > 1 else {}
        self.nodes.append(onnx.helper.make_node("DequantizeLinear", [q_name, s_name, z_name], [f"{name}/dequantized"],
                                                **kwargs))
        return f"{name}/dequantized"

    def _weighted(self, node) -> None:
        import onnx

        from edgeml.converters.onnx import _attr

        x = self._qdq(node.input[0])
        x_scale = self.params[node.input[0]][0]
        weights = self.static.constants.get(node.input[1])
        if weights is None:
            raise UnsupportedOpError(f"{self.static.path}: node '{node.name or node.output[0]}' ({node.op_type}) "
                                     "has non-constant weights")
        axis = 0 if node.op_type == "Conv" or _attr(node, "transB", 0) else 1
        q, scales = weight_quant(weights, axis)
        w = self._dequantize_const(node.input[1], q, scales, np.full(scales.size, WEIGHT_ZERO_POINT, np.uint8), axis)
        inputs = [x, w]
        if len(node.input) > 2 and node.input[2]:
            bias_scale = (np.float32(x_scale) * scales).astype(np.float32)
            bias = np.rint(self.static.constants[node.input[2]].astype(np.float64) / bias_scale.astype(np.float64))
            bias = np.clip(bias, -(1 << 31), (1 << 31) - 1).astype(np.int32)
            inputs.append(self._dequantize_const(node.input[2], bias, bias_scale, np.zeros(scales.size, np.int32), 0))
        copy = onnx.helper.make_node(node.op_type, inputs, [node.output[0]], name=node.name)
        copy.attribute.extend(node.attribute)
        self.nodes.append(copy)
        if not self._relu_follows(node.output[0]):
            self._qdq(node.output[0])

    def _relu_follows(self, name: str) -> bool:
        users = _consumers(self.static, name)
        return len(users) == 1 and users[0].op_type == "Relu"

    def _relu_or_fused(self, node) -> None:
        """Relu after Conv/Gemm: the float Relu stays between the op and its QuantizeLinear, whose range
        starts at 0 (zero point -128), so both onnxruntime and edgeml fold it into the clamp."""
        import onnx

        source = node.input[0]
        if source in self.dequantized or source not in {o for n in self.nodes for o in n.output}:
            source = self._qdq(source)
        self.nodes.append(onnx.helper.make_node("Relu", [source], [node.output[0]], name=node.name))
        hi = self.ranges[node.output[0]][1]
        self._qdq(node.output[0], activation_quant(0.0, hi))


def sample_inputs(static: StaticModel, count: int, seed: int) -> list[list[np.ndarray]]:
    rng = np.random.default_rng(seed)
    return [[rng.standard_normal(s.shape).astype(np.float32) for s in input_specs(static)] for _ in range(count)]


def float_runner(model: str | os.PathLike | bytes):
    """A float ONNX model (path or bytes) in onnxruntime, as a function of a list of input arrays."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3
    source = model if isinstance(model, bytes) else str(model)
    session = ort.InferenceSession(source, options, providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]

    def run(inputs: Sequence[np.ndarray]) -> list[np.ndarray]:
        return [np.asarray(v) for v in session.run(None, dict(zip(names, inputs, strict=True)))]

    return run
