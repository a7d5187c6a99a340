"""Read an ONNX model and make it static: bind constant inputs, fix the batch size, infer shapes and
fold constant subgraphs. The result is an onnx ModelProto that onnxruntime still runs unchanged
(it becomes the graph's reference model), plus the constant values edgeml's lowering reads."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from edgeml.errors import ModelFormatError, UnsupportedOpError

MIN_OPSET = 10  # QuantizeLinear, QLinearConv and friends appear in opset 10
# Ops whose output depends on data, or whose constant form edgeml reads itself (the QDQ weights).
_NEVER_FOLD = {"QuantizeLinear", "DequantizeLinear", "DynamicQuantizeLinear", "RandomNormal", "RandomUniform",
               "RandomNormalLike", "RandomUniformLike", "Multinomial", "Bernoulli"}
_CONTRIB_DOMAIN = "com.microsoft"


def _onnx():
    try:
        import onnx
    except ImportError:
        raise ModelFormatError("reading .onnx models needs the onnx package: pip install onnx") from None
    return onnx


@dataclass
class StaticModel:
    """An ONNX model with fixed shapes and its constants as numpy arrays."""

    model: object  # onnx.ModelProto
    path: str
    constants: dict[str, np.ndarray] = field(default_factory=dict)
    shapes: dict[str, tuple[int, ...]] = field(default_factory=dict)
    elem_types: dict[str, int] = field(default_factory=dict)

    @property
    def graph(self):
        return self.model.graph


def read_onnx(path: str | os.PathLike, bind: Mapping[str, np.ndarray] | None = None) -> StaticModel:
    """Load PATH; BIND turns the named graph inputs into constants (ONNX node tests pass scales and
    zero points as inputs; an int8 program needs them fixed)."""
    onnx = _onnx()
    path = Path(path)
    if not path.is_file():
        raise ModelFormatError(f"{path}: no such file")
    data = path.read_bytes()
    try:
        model = onnx.load_from_string(data)
    except Exception as exc:  # protobuf's DecodeError and friends
        raise ModelFormatError(f"{path}: not a readable ONNX model ({exc.__class__.__name__}: {exc})") from None
    if not model.graph.node and not model.graph.output:
        raise ModelFormatError(f"{path}: not an ONNX model (no graph; is this a protobuf of another kind?)")
    _check_opsets(model, str(path))
    static = StaticModel(model, str(path))
    _bind_inputs(static, dict(bind or {}))
    _fix_input_shapes(static)
    _fold_constants(static)
    return static


def _check_opsets(model, path: str) -> None:
    for opset in model.opset_import:
        if opset.domain in ("", "ai.onnx") and opset.version < MIN_OPSET:
            # Old opsets are upgraded where onnx knows how; integer ops need opset 10 anyway.
            continue
        if opset.domain not in ("", "ai.onnx", _CONTRIB_DOMAIN):
            used = sorted({n.op_type for n in model.graph.node if n.domain == opset.domain})
            if used:
                raise UnsupportedOpError(f"{path}: operators of domain '{opset.domain}' ({', '.join(used)}) are "
                                         "not ONNX standard ops; edgeml supports ai.onnx and com.microsoft's "
                                         "QLinearAdd/QLinearMul")


def _bind_inputs(static: StaticModel, bind: dict[str, np.ndarray]) -> None:
    onnx = _onnx()
    graph = static.graph
    names = {i.name for i in graph.input}
    unknown = sorted(set(bind) - names)
    if unknown:
        raise ModelFormatError(f"{static.path}: cannot bind {', '.join(unknown)}: not inputs of the model "
                               f"(inputs: {', '.join(sorted(names))})")
    for init in graph.initializer:
        static.constants[init.name] = onnx.numpy_helper.to_array(init)
    if not bind:
        return
    kept = [i for i in graph.input if i.name not in bind]
    del graph.input[:]
    graph.input.extend(kept)
    for name, value in bind.items():
        graph.initializer.append(onnx.numpy_helper.from_array(np.asarray(value), name))
        static.constants[name] = np.asarray(value)


def _fix_input_shapes(static: StaticModel) -> None:
    """A symbolic leading dimension becomes 1 (one sample per invocation, as on the device); any
    other symbolic dimension has no size edgeml could choose."""
    initializers = set(static.constants)
    for value in static.graph.input:
        if value.name in initializers:
            continue
        dims = value.type.tensor_type.shape.dim
        for axis, dim in enumerate(dims):
            if dim.HasField("dim_value") and dim.dim_value > 0:
                continue
            label = dim.dim_param or "?"
            if axis == 0:
                dim.Clear()
                dim.dim_value = 1
                continue
            raise ModelFormatError(
                f"{static.path}: input '{value.name}' has a dynamic dimension '{label}' at axis {axis}; edgeml "
                "compiles fixed shapes: export the model with a fixed input shape")


def _fold_constants(static: StaticModel) -> None:
    """Evaluate every node whose inputs are all constants (Shape of a static tensor, Constant,
    Gather/Unsqueeze/Concat of shapes, ...) with onnx's reference evaluator, then infer shapes."""
    onnx = _onnx()
    from onnx.reference import ReferenceEvaluator

    graph = static.graph
    static.model = _infer(static)
    graph = static.graph
    kept = []
    for node in graph.node:
        if node.op_type == "Constant":
            static.constants[node.output[0]] = _constant_node_value(node, static.path)
            continue
        inputs_known = all(not name or name in static.constants for name in node.input)
        if node.op_type == "Shape" and node.input[0] in static.shapes:
            static.constants[node.output[0]] = _shape_value(node, static.shapes[node.input[0]])
            continue
        if inputs_known and node.input and node.op_type not in _NEVER_FOLD and node.domain in ("", "ai.onnx"):
            try:
                single = _single_node_model(onnx, node, static)
                results = ReferenceEvaluator(single).run(None, {})
            except Exception:  # leave nodes the evaluator cannot run to the lowering, which names them
                kept.append(node)
                continue
            for name, value in zip(node.output, results, strict=False):
                static.constants[name] = np.asarray(value)
            continue
        kept.append(node)
    del graph.node[:]
    graph.node.extend(kept)
    used = {name for node in graph.node for name in node.input} | {o.name for o in graph.output}
    del graph.initializer[:]
    for name, value in static.constants.items():
        if name in used:
            graph.initializer.append(onnx.numpy_helper.from_array(value, name))
    # Old IR versions list initializers among the inputs too; constants are not inputs (IR 4 allows that).
    inputs = [v for v in graph.input if v.name not in static.constants]
    del graph.input[:]
    graph.input.extend(inputs)
    static.model.ir_version = max(static.model.ir_version, 4)
    static.model = _infer(static)


def _shape_value(node, shape: tuple[int, ...]) -> np.ndarray:
    start, end = 0, len(shape)
    for attr in node.attribute:
        if attr.name == "start":
            start = attr.i
        if attr.name == "end":
            end = attr.i
    return np.array(shape[slice(start, end)], np.int64)


def _constant_node_value(node, path: str) -> np.ndarray:
    onnx = _onnx()
    for attr in node.attribute:
        if attr.name == "value":
            return onnx.numpy_helper.to_array(attr.t)
        if attr.name in ("value_float", "value_int"):
            return np.array(onnx.helper.get_attribute_value(attr),
                            np.float32 if attr.name == "value_float" else np.int64)
        if attr.name in ("value_floats", "value_ints"):
            return np.array(list(onnx.helper.get_attribute_value(attr)),
                            np.float32 if attr.name == "value_floats" else np.int64)
    raise ModelFormatError(f"{path}: Constant node '{node.name}' has no value edgeml can read")


def _single_node_model(onnx, node, static: StaticModel):
    inputs = [onnx.numpy_helper.from_array(static.constants[n], n) for n in node.input if n]
    outputs = [onnx.helper.make_empty_tensor_value_info(n) for n in node.output]
    graph = onnx.helper.make_graph([node], "fold", [], outputs, inputs)
    return onnx.helper.make_model(graph, opset_imports=static.model.opset_import, ir_version=static.model.ir_version)


def _infer(static: StaticModel):
    onnx = _onnx()
    try:
        model = onnx.shape_inference.infer_shapes(static.model, strict_mode=False, data_prop=True)
    except Exception as exc:
        raise ModelFormatError(f"{static.path}: ONNX shape inference failed: {exc}") from None
    static.shapes.clear()
    static.elem_types.clear()
    for value in (*model.graph.input, *model.graph.value_info, *model.graph.output):
        tensor_type = value.type.tensor_type
        static.elem_types[value.name] = tensor_type.elem_type
        dims = tensor_type.shape.dim
        if tensor_type.HasField("shape") and all(d.HasField("dim_value") for d in dims):
            static.shapes[value.name] = tuple(int(d.dim_value) for d in dims)
    for name, value in static.constants.items():
        static.shapes[name] = tuple(value.shape)
    return model
