"""Lower a quantized ONNX model into the edgeml IR, for onnxruntime's numerics.

Both quantized forms arrive here:

* operator form: QLinearConv, QLinearMatMul, ConvInteger, MatMulInteger, com.microsoft QLinearAdd and
  QLinearMul on integer tensors;
* QDQ form: DequantizeLinear -> float op [-> Relu] -> QuantizeLinear, which onnxruntime fuses into the
  same QLinear kernels. A QDQ group is lowered at its QuantizeLinear, exactly like the operator form.

ONNX is NCHW and edgeml's windowed kernels are NHWC: 4-D values keep the layout they were produced in
and a TRANSPOSE is inserted where a consumer needs the other one; pairs that undo each other are
removed afterwards (edgeml.passes.transposes). uint8 tensors are computed as int8 with zero points
moved by 128 (the arithmetic is identical) and converted back at the graph's edges.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgeml.converters.onnx_load import StaticModel, read_onnx
from edgeml.errors import ModelFormatError, UnsupportedOpError
from edgeml.ir.dtypes import DType
from edgeml.ir.graph import Graph, Node, Tensor, TensorKind, sha256_bytes
from edgeml.ir.quant import QuantParams, per_tensor
from edgeml.ir.validate import validate
from edgeml.ops.add_sub import AddSubAttrs
from edgeml.ops.batch_matmul import BatchMatMulAttrs
from edgeml.ops.common import Activation, Padding
from edgeml.ops.conv2d import Conv2DAttrs
from edgeml.ops.depthwise_conv2d import DepthwiseConv2DAttrs
from edgeml.ops.fully_connected import FullyConnectedAttrs
from edgeml.ops.mean import ReducerAttrs
from edgeml.ops.mul import MulAttrs
from edgeml.ops.pool2d import Pool2DAttrs
from edgeml.passes.transposes import cancel_transposes

NCHW_TO_NHWC = (0, 2, 3, 1)
NHWC_TO_NCHW = (0, 3, 1, 2)
_INT_TYPES = {2: DType.UINT8, 3: DType.INT8, 6: DType.INT32}  # onnx.TensorProto elem types
_FLOAT = 1
_QUANTIZED_OPS = {"QuantizeLinear", "DequantizeLinear", "DynamicQuantizeLinear", "QLinearConv", "QLinearMatMul",
                  "ConvInteger", "MatMulInteger", "QLinearAdd", "QLinearMul"}
# Ops that only move values: inside a QDQ group (same scale in and out) they run on the integers.
_MOVERS = {"Reshape", "Flatten", "Transpose", "Squeeze", "Unsqueeze", "Identity", "MaxPool", "Dropout"}


def is_quantized_onnx(path: str | os.PathLike) -> bool:
    """True when the model already carries int8/uint8 quantization (QDQ or QLinear ops)."""
    import onnx

    model = onnx.load(str(path), load_external_data=False)
    return any(n.op_type in _QUANTIZED_OPS for n in model.graph.node)


def load_onnx(path: str | os.PathLike, bind: Mapping[str, np.ndarray] | None = None) -> Graph:
    static = read_onnx(path, bind)
    graph = _Lowering(static).run()
    cancel_transposes(graph)
    validate(graph)
    return graph


@dataclass
class _Value:
    """An ONNX integer value in the IR: its tensor, and for 4-D values the layout it is stored in."""

    tensor: int
    nhwc: bool = False


@dataclass(frozen=True)
class _Dequantized:
    """A float value that is DequantizeLinear(integer, scale, zero_point)."""

    source: str
    scale: np.ndarray
    zero_point: np.ndarray
    axis: int


@dataclass(frozen=True)
class _QInput:
    """An integer operand with its quantization, as a QLinear op or a QDQ group sees it."""

    name: str
    scale: np.ndarray
    zero_point: np.ndarray
    axis: int = 1


class _Lowering:
    def __init__(self, static: StaticModel):
        self.static = static
        self.path = static.path
        self.const = static.constants
        data = static.model.SerializeToString()
        self.graph = Graph(name=Path(self.path).stem, source_path=self.path, source_hash=sha256_bytes(data),
                           reference_model=data, native_numerics="onnxruntime")
        self.values: dict[str, _Value] = {}
        self.layout_cache: dict[tuple[int, bool], int] = {}
        self.dequantized: dict[str, _Dequantized] = {}
        self.producers = {out: node for node in static.graph.node for out in node.output}
        self.consumers: dict[str, list] = {}
        for node in static.graph.node:
            for name in node.input:
                self.consumers.setdefault(name, []).append(node)
        self.names: list[str] = []
        self.node_index = 0

    # ------------------------------------------------------------------ driver

    def run(self) -> Graph:
        for value in self.static.graph.input:
            if value.name not in self.const:
                self._graph_input(value.name)
        for index, node in enumerate(self.static.graph.node):
            self.node_index = index
            self._lower(node)
        for value in self.static.graph.output:
            self.graph.outputs.append(self._graph_output(value.name))
        self.graph.source_tensor_names = self.names
        return self.graph

    def _lower(self, node) -> None:
        op = node.op_type
        if op == "DequantizeLinear" and self._is_integer(node.input[0]):
            scale, zp = self._scale(node, 1), self._zero_point(node, 2, node.input[0])
            self.dequantized[node.output[0]] = _Dequantized(node.input[0], scale, zp, _attr(node, "axis", 1))
            return
        if op == "QuantizeLinear":
            self._quantize(node)
            return
        if op in _MOVERS and node.input[0] in self.values:
            self._move(node, node.input[0], node.output[0])
            return
        if op == "QLinearConv":
            x, w = self._qinput(node, 0, 1, 2), self._qinput(node, 3, 4, 5, axis=0)
            self._conv(node, x, w, node.input[8] if len(node.input) > 8 else "", node.output[0],
                       self._out_quant(node, 6, 7, node.output[0]), relu=False)
            return
        if op == "ConvInteger":
            x = _QInput(node.input[0], np.ones(1, np.float32), self._zero_point(node, 2, node.input[0]))
            w = _QInput(node.input[1], np.ones(1, np.float32), self._zero_point(node, 3, node.input[1]), 0)
            self._conv(node, x, w, "", node.output[0], None, relu=False)
            return
        if op == "QLinearMatMul":
            a, b = self._qinput(node, 0, 1, 2), self._qinput(node, 3, 4, 5, axis=-1)
            self._matmul(node, a, b, "", node.output[0], self._out_quant(node, 6, 7, node.output[0]), relu=False)
            return
        if op == "MatMulInteger":
            a = _QInput(node.input[0], np.ones(1, np.float32), self._zero_point(node, 2, node.input[0]))
            b = _QInput(node.input[1], np.ones(1, np.float32), self._zero_point(node, 3, node.input[1]), -1)
            self._matmul(node, a, b, "", node.output[0], None, relu=False)
            return
        if op in ("QLinearAdd", "QLinearMul") and node.domain == "com.microsoft":
            a, b = self._qinput(node, 0, 1, 2), self._qinput(node, 3, 4, 5)
            self._binary(node, {"QLinearAdd": "Add", "QLinearMul": "Mul"}[op], a, b, node.output[0],
                         self._out_quant(node, 6, 7, node.output[0]))
            return
        if op == "QLinearSigmoid" and node.domain == "com.microsoft":
            self._unary(node, "LOGISTIC", self._qinput(node, 0, 1, 2), node.output[0],
                        self._out_quant(node, 3, 4, node.output[0]))
            return
        if op == "QLinearGlobalAveragePool" and node.domain == "com.microsoft":
            if _attr(node, "channels_last", 0):
                raise self._unsupported(node, "channels_last=1 (edgeml reads NCHW ONNX tensors)")
            self._global_average(node, self._qinput(node, 0, 1, 2), node.output[0],
                                 self._out_quant(node, 3, 4, node.output[0]))
            return
        if op == "Relu" and node.input[0] in self.values:
            raise self._unsupported(node, "Relu on a quantized tensor outside a QDQ group")
        if self._float_op_feeding_quantize(node):
            return  # lowered by the QuantizeLinear that ends its QDQ group
        if op == "Relu" and self.producers.get(node.input[0]) is not None and self._float_op_feeding_quantize(
                self.producers[node.input[0]]):
            return  # the Relu of a QDQ group, folded into its clamp
        if self._all_float(node):
            self._float_leftover(node)
            return
        raise self._unsupported(node, self._why_unsupported(node))

    # ------------------------------------------------------------------ values and tensors

    def _add_tensor(self, name: str, shape: tuple[int, ...], dtype: DType, quant: QuantParams | None,
                    kind: TensorKind = TensorKind.ACTIVATION, data: np.ndarray | None = None) -> int:
        origin = None
        if name:
            origin = len(self.names)
            self.names.append(name)
        return self.graph.add_tensor(Tensor(name=name or f"edgeml/{len(self.graph.tensors)}", shape=tuple(shape),
                                            dtype=dtype, quant=quant, kind=kind, data=data, origin=origin))

    def _add_node(self, op: str, inputs: list[int], outputs: list[int], attrs, source) -> None:
        self.graph.nodes.append(Node(op=op, inputs=inputs, outputs=outputs, attrs=attrs,
                                     name=source.name or source.output[0], origin=self.node_index,
                                     source_op=source.op_type))

    def _shape(self, name: str) -> tuple[int, ...]:
        if name in self.const:
            return tuple(self.const[name].shape)
        try:
            return self.static.shapes[name]
        except KeyError:
            raise ModelFormatError(f"{self.path}: the shape of '{name}' is unknown after shape inference; "
                                   "export the model with static shapes") from None

    def _is_integer(self, name: str) -> bool:
        if name in self.const:
            return self.const[name].dtype.kind in "iu"
        return self.static.elem_types.get(name) in _INT_TYPES

    def _graph_input(self, name: str) -> None:
        elem = self.static.elem_types.get(name)
        shape = self._shape(name)
        if elem == _FLOAT:
            self.values[name] = _Value(self._add_tensor(name, shape, DType.FLOAT32, None))
            self.graph.inputs.append(self.values[name].tensor)
            return
        if elem not in _INT_TYPES:
            import onnx

            kind = onnx.TensorProto.DataType.Name(elem) if elem in onnx.TensorProto.DataType.values() else elem
            raise UnsupportedOpError(f"{self.path}: input '{name}' is {kind}; edgeml computes 8-bit integer models "
                                     "with float32, int8 or uint8 inputs (4- and 16-bit ONNX types are not supported)")
        # The quantization of an integer input is set by its first consumer (_with_quant).
        self.values[name] = _Value(self._add_tensor(name, shape, _INT_TYPES[elem], None))
        self.graph.inputs.append(self.values[name].tensor)

    def _graph_output(self, name: str) -> int:
        if name in self.dequantized:
            return self._dequantize_output(name)
        if name not in self.values:
            raise self._unsupported_name(name, "graph output is not produced by a supported op")
        index = self._nchw(name)
        tensor = self.graph.tensors[index]
        elem = self.static.elem_types.get(name)
        if elem == 2 and tensor.dtype is DType.INT8:  # the model's uint8 output
            q = tensor.quant
            out = self._add_tensor("", tensor.shape, DType.UINT8,
                                   per_tensor(q.single_scale, q.single_zero_point + 128))
            self.graph.nodes.append(Node("QUANTIZE", [index], [out], None, name=f"{name}/uint8",
                                         source_op="uint8 output"))
            self.graph.tensors[out].origin = self.graph.tensors[index].origin
            return out
        return index

    def _dequantize_output(self, name: str) -> int:
        dq = self.dequantized[name]
        source = self._operand(_QInput(dq.source, dq.scale, dq.zero_point, dq.axis))
        index = self._nchw(dq.source) if dq.source in self.values else source
        out = self._add_tensor(name, self.graph.tensors[index].shape, DType.FLOAT32, None)
        producer = self.producers.get(name)
        self.graph.nodes.append(Node("DEQUANTIZE", [index], [out], None, name=name, source_op="DequantizeLinear",
                                     origin=list(self.static.graph.node).index(producer) if producer else None))
        return out

    def _operand(self, q: _QInput) -> int:
        """The int8 IR tensor of an integer activation, its quantization set (uint8 becomes int8)."""
        if q.name not in self.values:
            raise self._unsupported_name(q.name, "is not produced by a supported op")
        value = self.values[q.name]
        tensor = self.graph.tensors[value.tensor]
        scale, zp = _per_tensor_scale(q, self.path), int(q.zero_point.reshape(-1)[0])
        if tensor.quant is None:
            tensor.quant = per_tensor(scale, zp)
        if tensor.dtype is DType.UINT8:
            shifted = self._add_tensor("", tensor.shape, DType.INT8, per_tensor(scale, zp - 128))
            self.graph.nodes.append(Node("QUANTIZE", [value.tensor], [shifted], None, name=f"{q.name}/int8",
                                         source_op="uint8 input"))
            self.values[q.name] = value = _Value(shifted, value.nhwc)
        return value.tensor

    def _nhwc(self, name: str) -> int:
        return self._layout(name, True)

    def _nchw(self, name: str) -> int:
        return self._layout(name, False)

    def _layout(self, name: str, nhwc: bool) -> int:
        value = self.values[name]
        tensor = self.graph.tensors[value.tensor]
        if len(tensor.shape) != 4 or value.nhwc == nhwc:
            return value.tensor
        key = (value.tensor, nhwc)
        if key not in self.layout_cache:
            perm = NCHW_TO_NHWC if nhwc else NHWC_TO_NCHW
            shape = tuple(tensor.shape[a] for a in perm)
            out = self._add_tensor("", shape, tensor.dtype, tensor.quant)
            perm_index = self._add_tensor("", (4,), DType.INT32, None, TensorKind.CONSTANT, np.array(perm, np.int32))
            self.graph.nodes.append(Node("TRANSPOSE", [value.tensor, perm_index], [out], None,
                                         name=f"{name}/{'nhwc' if nhwc else 'nchw'}", source_op="layout"))
            self.layout_cache[key] = out
        return self.layout_cache[key]

    def _set_output(self, name: str, shape: tuple[int, ...], quant: QuantParams | None, nhwc: bool,
                    dtype: DType = DType.INT8) -> int:
        index = self._add_tensor(name, shape, dtype, quant)
        self.values[name] = _Value(index, nhwc)
        return index

    # ------------------------------------------------------------------ quantization parameters

    def _constant(self, node, position: int, role: str) -> np.ndarray:
        if position >= len(node.input) or not node.input[position]:
            raise self._unsupported(node, f"{role} is missing")
        name = node.input[position]
        if name not in self.const:
            raise self._unsupported(node, f"{role} '{name}' must be a constant (an initializer); edgeml compiles "
                                    "static quantization parameters")
        return self.const[name]

    def _scale(self, node, position: int) -> np.ndarray:
        return self._constant(node, position, "scale").astype(np.float32).reshape(-1)

    def _zero_point(self, node, position: int, value_name: str) -> np.ndarray:
        if position >= len(node.input) or not node.input[position]:
            return np.zeros(1, np.int64)
        zp = self._constant(node, position, "zero point")
        if zp.dtype == np.int32 and not np.any(zp):  # a bias's DequantizeLinear
            return zp.astype(np.int64).reshape(-1)
        if zp.dtype not in (np.int8, np.uint8):
            raise self._unsupported(node, f"zero point of type {zp.dtype} (edgeml computes 8-bit integers)")
        return zp.astype(np.int64).reshape(-1)

    def _qinput(self, node, value: int, scale: int, zero_point: int, axis: int = 1) -> _QInput:
        return _QInput(node.input[value], self._scale(node, scale),
                       self._zero_point(node, zero_point, node.input[value]), axis)

    def _out_quant(self, node, scale: int, zero_point: int, name: str) -> QuantParams:
        q = _QInput(name, self._scale(node, scale), self._zero_point(node, zero_point, name))
        return self._int8_quant(q, name)

    def _int8_quant(self, q: _QInput, name: str) -> QuantParams:
        """Per-tensor quantization of an 8-bit activation, in edgeml's int8 storage."""
        shift = 128 if self._elem_of(name, q) == 2 else 0
        return per_tensor(_per_tensor_scale(q, self.path), int(q.zero_point[0]) - shift)

    def _elem_of(self, name: str, q: _QInput) -> int:
        return self.static.elem_types.get(name, 2 if q.zero_point.dtype == np.uint8 else 3)

    def _weights(self, q: _QInput, channel_axis: int) -> tuple[np.ndarray, QuantParams]:
        """A constant integer operand as int8 (uint8 moved by 128) with per-channel parameters."""
        values = self.const[q.name]
        if values.dtype not in (np.int8, np.uint8):
            raise ModelFormatError(f"{self.path}: weights '{q.name}' are {values.dtype}; expected int8 or uint8")
        shift = 128 if values.dtype == np.uint8 else 0
        data = (values.astype(np.int16) - shift).astype(np.int8)
        zero_point = q.zero_point.astype(np.int64) - shift
        axis = None if q.scale.size == 1 and zero_point.size == 1 else channel_axis
        return data, QuantParams(q.scale.astype(np.float32), zero_point, axis)

    # ------------------------------------------------------------------ QDQ groups

    def _float_op_feeding_quantize(self, node) -> bool:
        """A float op inside a QDQ group: every float input dequantized, and every consumer a
        QuantizeLinear (or a Relu feeding one). Lowered later, at that QuantizeLinear."""
        if not all(not n or n in self.dequantized or n in self.const for n in node.input):
            return False
        if not any(n in self.dequantized for n in node.input):
            return False
        for consumer in self.consumers.get(node.output[0], []):
            if consumer.op_type == "Relu":
                if not all(c.op_type == "QuantizeLinear" for c in self.consumers.get(consumer.output[0], [])):
                    return False
            elif consumer.op_type != "QuantizeLinear":
                return False
        return True

    def _quantize(self, node) -> None:
        source = node.input[0]
        out_q = _QInput(node.output[0], self._scale(node, 1), self._zero_point(node, 2, node.output[0]))
        if _attr(node, "axis", 1) != 1 and out_q.scale.size > 1:
            raise self._unsupported(node, "per-channel activations are not supported")
        relu = False
        producer = self.producers.get(source)
        if producer is not None and producer.op_type == "Relu" and producer.input[0] not in self.values:
            relu, source, producer = True, producer.input[0], self.producers.get(producer.input[0])
        if source in self.values and self.graph.tensors[self.values[source].tensor].dtype is DType.FLOAT32:
            x = self.values[source].tensor
            out = self._set_output(node.output[0], self.graph.tensors[x].shape, self._int8_quant(out_q, node.output[0]),
                                   self.values[source].nhwc)
            self._add_node("QUANTIZE", [x], [out], None, node)
            return
        if producer is None or not all(n in self.dequantized or n in self.const or not n for n in producer.input):
            raise self._unsupported(node, f"its input '{source}' is neither a model input nor a float op between "
                                    "DequantizeLinear and QuantizeLinear")
        self._qdq_group(producer, node.output[0], self._int8_quant(out_q, node.output[0]), relu)

    def _dq(self, producer, position: int) -> _QInput:
        name = producer.input[position]
        if name not in self.dequantized:
            raise self._unsupported(producer, f"input {position} ('{name}') is not dequantized from integers")
        dq = self.dequantized[name]
        return _QInput(dq.source, dq.scale, dq.zero_point, dq.axis)

    def _qdq_group(self, producer, out_name: str, out_quant: QuantParams, relu: bool) -> None:
        op = producer.op_type
        self.node_index = list(self.static.graph.node).index(producer)
        if op == "Conv":
            bias = producer.input[2] if len(producer.input) > 2 else ""
            self._conv(producer, self._dq(producer, 0), self._dq(producer, 1), self._dq_bias(producer, bias),
                       out_name, out_quant, relu)
        elif op in ("MatMul", "Gemm"):
            if op == "Gemm" and (_attr(producer, "transA", 0) or _attr(producer, "alpha", 1.0) != 1.0
                                 or _attr(producer, "beta", 1.0) != 1.0):
                raise self._unsupported(producer, "Gemm with transA, alpha or beta other than 1")
            b = self._dq(producer, 1)
            transposed = op == "Gemm" and _attr(producer, "transB", 0)
            bias = producer.input[2] if op == "Gemm" and len(producer.input) > 2 else ""
            self._matmul(producer, self._dq(producer, 0), b, self._dq_bias(producer, bias), out_name, out_quant,
                         relu, b_transposed=bool(transposed))
        elif op in ("Add", "Mul"):
            if relu and out_quant.single_zero_point != -128:  # at the type's minimum the clamp is a no-op
                raise self._unsupported(producer, f"{op} followed by Relu inside a QDQ group whose output zero "
                                        "point is not the minimum")
            self._binary(producer, op, self._dq(producer, 0), self._dq(producer, 1), out_name, out_quant)
        elif op == "GlobalAveragePool":
            self._global_average(producer, self._dq(producer, 0), out_name, out_quant)
        elif op == "Sigmoid":
            self._unary(producer, "LOGISTIC", self._dq(producer, 0), out_name, out_quant)
        elif op in _MOVERS:
            source = self._dq(producer, 0)
            if not np.array_equal(source.scale, np.asarray([out_quant.single_scale], np.float32)):
                raise self._unsupported(producer, f"{op} between different scales (a requantizing {op})")
            self._operand(source)
            self._move(producer, source.name, out_name)
        else:
            raise self._unsupported(producer, f"{op} inside a QDQ group has no onnxruntime integer kernel that "
                                    "edgeml reproduces")

    def _dq_bias(self, producer, name: str) -> str:
        """A bias is DequantizeLinear(int32 constant, s_x * s_w); the int32 values are what ORT adds."""
        if not name:
            return ""
        if name in self.dequantized and self.dequantized[name].source in self.const:
            return self.dequantized[name].source
        raise self._unsupported(producer, f"bias '{name}' is not an int32 constant behind a DequantizeLinear "
                                "(quantize the model with edgeml quantize)")

    # ------------------------------------------------------------------ ops

    def _conv(self, node, x: _QInput, w: _QInput, bias_name: str, out_name: str, out_quant: QuantParams | None,
              relu: bool) -> None:
        if w.name not in self.const:
            raise self._unsupported(node, "convolution weights must be constants")
        x_shape = self._shape(x.name)
        if len(x_shape) != 4:
            raise self._unsupported(node, f"input of rank {len(x_shape)}; edgeml lowers 2-D convolutions (NCHW)")
        self._operand(x)
        x_index = self._nhwc(x.name)
        weights, w_quant = self._weights(w, 0)
        out_c, in_per_group, kh, kw = weights.shape
        group = _attr(node, "group", 1)
        strides = _attr(node, "strides", [1, 1])
        dilations = _attr(node, "dilations", [1, 1])
        pads = _conv_pads(node, self._shape(x.name)[2:], (kh, kw), strides, dilations)
        padding = _tflite_padding(pads, x_shape[2:], (kh, kw), strides, dilations)
        if padding is None:  # explicit pads: a PADV2 with the zero point, which adds exactly nothing
            x_index = self._pad(node, x_index, pads, self.graph.tensors[x_index].quant.single_zero_point)
            padding = Padding.VALID
        in_c = x_shape[1]
        n, _, out_h, out_w = self._shape(out_name) if out_name in self.static.shapes else (
            x_shape[0], out_c, *_conv_out_hw(x_shape[2:], (kh, kw), strides, dilations, pads))
        out_dtype = DType.INT32 if out_quant is None else DType.INT8
        out_shape = (n, out_h, out_w, out_c)
        bias = self._bias(node, bias_name, out_c)
        if group == 1:
            w_index = self._add_tensor("", (out_c, kh, kw, in_c), DType.INT8, w_quant, TensorKind.CONSTANT,
                                       np.ascontiguousarray(weights.transpose(0, 2, 3, 1)))
            attrs = Conv2DAttrs(padding, strides[1], strides[0], Activation.RELU if relu else Activation.NONE,
                                dilations[1], dilations[0])
            op = "CONV_2D"
        elif group == in_c and in_per_group == 1:
            depth_quant = QuantParams(w_quant.scale, w_quant.zero_point, 3 if w_quant.axis is not None else None)
            w_index = self._add_tensor("", (1, kh, kw, out_c), DType.INT8, depth_quant, TensorKind.CONSTANT,
                                       np.ascontiguousarray(weights.reshape(out_c, kh, kw).transpose(1, 2, 0)[None]))
            attrs = DepthwiseConv2DAttrs(padding, strides[1], strides[0], out_c // in_c,
                                         Activation.RELU if relu else Activation.NONE, dilations[1], dilations[0])
            op = "DEPTHWISE_CONV_2D"
        else:
            raise self._unsupported(node, f"grouped convolution (group={group} of {in_c} channels)")
        out = self._set_output(out_name, out_shape, out_quant, True, out_dtype)
        self._add_node(op, [x_index, w_index, bias], [out], attrs, node)

    def _pad(self, node, x_index: int, pads: list[int], value: int) -> int:
        """PADV2 of an NHWC tensor by ONNX's [top, left, bottom, right] pads with VALUE."""
        tensor = self.graph.tensors[x_index]
        n, h, w, c = tensor.shape
        paddings = np.array([[0, 0], [pads[0], pads[2]], [pads[1], pads[3]], [0, 0]], np.int32)
        shape = (n, h + pads[0] + pads[2], w + pads[1] + pads[3], c)
        out = self._add_tensor("", shape, tensor.dtype, tensor.quant)
        pad_index = self._add_tensor("", (4, 2), DType.INT32, None, TensorKind.CONSTANT, paddings)
        value_index = self._add_tensor("", (1,), tensor.dtype, tensor.quant, TensorKind.CONSTANT,
                                       np.array([value], tensor.dtype.np))
        self.graph.nodes.append(Node("PADV2", [x_index, pad_index, value_index], [out], None,
                                     name=f"{node.name or node.output[0]}/pads", source_op="pads"))
        return out

    def _bias(self, node, name: str, channels: int) -> int:
        if not name:
            return -1
        values = self.const.get(name)
        if values is None or values.dtype != np.int32 or values.size != channels:
            raise self._unsupported(node, f"bias '{name}' must be {channels} int32 constants")
        return self._add_tensor("", (channels,), DType.INT32, None, TensorKind.CONSTANT, values.reshape(-1))

    def _matmul(self, node, a: _QInput, b: _QInput, bias_name: str, out_name: str, out_quant: QuantParams | None,
                relu: bool, b_transposed: bool = False) -> None:
        if b.name not in self.const:
            raise self._unsupported(node, "a MatMul of two activations (edgeml needs constant weights)")
        matrix = self.const[b.name]
        self._operand(a)
        a_index = self._nchw(a.name)
        a_shape = self.graph.tensors[a_index].shape
        if matrix.ndim == 2:
            weights, w_quant = self._weights(b, 1 if not b_transposed else 0)
            weights = weights if b_transposed else weights.T
            w_quant = QuantParams(w_quant.scale, w_quant.zero_point, 0 if w_quant.axis is not None else None)
            channels = weights.shape[0]
            out_shape = (*a_shape[:-1], channels)
            w_index = self._add_tensor("", weights.shape, DType.INT8, w_quant, TensorKind.CONSTANT,
                                       np.ascontiguousarray(weights))
            out = self._set_output(out_name, out_shape, out_quant, False,
                                   DType.INT32 if out_quant is None else DType.INT8)
            attrs = FullyConnectedAttrs(Activation.RELU if relu else Activation.NONE, keep_num_dims=True)
            self._add_node("FULLY_CONNECTED", [a_index, w_index, self._bias(node, bias_name, channels)], [out],
                           attrs, node)
            return
        if matrix.ndim == len(a_shape) and matrix.shape[:-2] == a_shape[:-2] and not bias_name:
            self._batched_matmul(node, a, b, a_index, out_name, out_quant, relu)
            return
        raise self._unsupported(node, f"MatMul of {a_shape} by constant {matrix.shape}")

    def _batched_matmul(self, node, a: _QInput, b: _QInput, a_index: int, out_name: str,
                        out_quant: QuantParams | None, relu: bool) -> None:
        """A constant batched right operand (per-tensor quantized): BATCH_MATMUL."""
        if b.scale.size != 1 or b.zero_point.size != 1:
            raise self._unsupported(node, "a batched MatMul with per-channel weights")
        if relu:
            raise self._unsupported(node, "a batched MatMul followed by Relu")
        data, quant = self._weights(b, 0)
        b_index = self._add_tensor("", data.shape, DType.INT8, quant, TensorKind.CONSTANT, data)
        shape = (*self.graph.tensors[a_index].shape[:-1], data.shape[-1])
        out = self._set_output(out_name, shape, out_quant, False)
        self._add_node("BATCH_MATMUL", [a_index, b_index], [out], BatchMatMulAttrs(), node)

    def _binary(self, node, op: str, a: _QInput, b: _QInput, out_name: str, out_quant: QuantParams) -> None:
        indices, nhwc = [], False
        quantized = [q for q in (a, b) if q.name in self.values]
        if quantized and all(self.values[q.name].nhwc for q in quantized) and len(self._shape(out_name)) == 4:
            nhwc = True
        for q in (a, b):
            if q.name in self.values:
                self._operand(q)
                indices.append(self._nhwc(q.name) if nhwc else self._nchw(q.name))
                continue
            if q.name not in self.const:
                raise self._unsupported(node, f"operand '{q.name}' is neither computed nor a constant")
            data, quant = self._weights(q, 0)
            if quant.axis is not None:
                raise self._unsupported(node, f"per-channel quantized constant operand '{q.name}'")
            if nhwc:
                data = _constant_to_nhwc(data, 4)
            indices.append(self._add_tensor("", data.shape, DType.INT8, quant, TensorKind.CONSTANT, data))
        shape = self._shape(out_name)
        shape = tuple(shape[p] for p in NCHW_TO_NHWC) if nhwc else shape
        offset = 128 if self._elem_of(out_name, _QInput(out_name, out_quant.scale, out_quant.zero_point)) == 2 else 0
        out = self._set_output(out_name, shape, out_quant, nhwc)
        attrs = AddSubAttrs(onnx_value_offset=offset) if op == "Add" else MulAttrs(onnx_value_offset=offset)
        self._add_node("ADD" if op == "Add" else "MUL", indices, [out], attrs, node)

    def _unary(self, node, op: str, x: _QInput, out_name: str, out_quant: QuantParams) -> None:
        """An element-wise op: the output keeps the input's layout."""
        index = self._operand(x)
        value = self.values[x.name]
        out = self._set_output(out_name, self.graph.tensors[index].shape, out_quant, value.nhwc)
        self._add_node(op, [index], [out], None, node)

    def _global_average(self, node, x: _QInput, out_name: str, out_quant: QuantParams) -> None:
        """GlobalAveragePool over H, W of an NCHW value: MEAN over NHWC axes 1, 2, keeping them."""
        if len(self._shape(x.name)) != 4:
            raise self._unsupported(node, "GlobalAveragePool of a tensor that is not 4-D")
        self._operand(x)
        x_index = self._nhwc(x.name)
        n, _, _, c = self.graph.tensors[x_index].shape
        axes = self._add_tensor("", (2,), DType.INT32, None, TensorKind.CONSTANT, np.array([1, 2], np.int32))
        out = self._set_output(out_name, (n, 1, 1, c), out_quant, True)
        self._add_node("MEAN", [x_index, axes], [out], ReducerAttrs(keep_dims=True), node)

    def _move(self, node, source: str, out_name: str) -> None:
        op = node.op_type
        value = self.values[source]
        tensor = self.graph.tensors[value.tensor]
        if op in ("Identity", "Dropout"):
            self.values[out_name] = value
            return
        if op == "MaxPool":
            self._max_pool(node, source, out_name)
            return
        if op == "Transpose":
            perm = tuple(_attr(node, "perm", list(range(len(tensor.shape)))[::-1]))
            x = self._nchw(source)
            shape = tuple(self.graph.tensors[x].shape[p] for p in perm)
            out = self._set_output(out_name, shape, tensor.quant, False, tensor.dtype)
            perm_index = self._add_tensor("", (len(perm),), DType.INT32, None, TensorKind.CONSTANT,
                                          np.array(perm, np.int32))
            self._add_node("TRANSPOSE", [x, perm_index], [out], None, node)
            return
        x = self._nchw(source)
        shape = self._shape(out_name)
        out = self._set_output(out_name, shape, tensor.quant, False, tensor.dtype)
        self._add_node("RESHAPE", [x], [out], None, node)

    def _max_pool(self, node, source: str, out_name: str) -> None:
        kh, kw = _attr(node, "kernel_shape", [1, 1])
        strides = _attr(node, "strides", [1, 1])
        if _attr(node, "ceil_mode", 0) or any(d != 1 for d in _attr(node, "dilations", [1, 1])):
            raise self._unsupported(node, "MaxPool with ceil_mode or dilations")
        x_shape = self._shape(source)
        pads = _conv_pads(node, x_shape[2:], (kh, kw), strides, [1, 1])
        padding = _tflite_padding(pads, x_shape[2:], (kh, kw), strides, [1, 1])
        x = self._nhwc(source)
        if padding is None:  # explicit pads: padded with the type's minimum, which no window picks
            x = self._pad(node, x, pads, int(np.iinfo(self.graph.tensors[x].dtype.np).min))
            padding = Padding.VALID
        n, c, out_h, out_w = self._shape(out_name)
        tensor = self.graph.tensors[x]
        out = self._set_output(out_name, (n, out_h, out_w, c), tensor.quant, True, tensor.dtype)
        self._add_node("MAX_POOL_2D", [x], [out], Pool2DAttrs(padding, strides[1], strides[0], kw, kh), node)

    def _all_float(self, node) -> bool:
        return all(self.static.elem_types.get(n, _FLOAT) == _FLOAT for n in node.output)

    def _float_leftover(self, node) -> None:
        raise self._unsupported(node, "a float op outside any QDQ group: quantize the model first (edgeml "
                                "quantize MODEL.onnx --calibration DATA -o OUT.onnx)")

    # ------------------------------------------------------------------ errors

    def _why_unsupported(self, node) -> str:
        if node.op_type == "DynamicQuantizeLinear":
            return ("computes its scale from the data at run time; an int8 program needs static quantization "
                    "(quantize with edgeml quantize or onnxruntime's quantize_static)")
        return f"{node.op_type} (domain '{node.domain or 'ai.onnx'}') is not supported on integer tensors"

    def _unsupported(self, node, why: str) -> UnsupportedOpError:
        label = node.name or (node.output[0] if node.output else "?")
        return UnsupportedOpError(f"{self.path}: node '{label}' ({node.op_type}): {why}")

    def _unsupported_name(self, name: str, why: str) -> UnsupportedOpError:
        producer = self.producers.get(name)
        if producer is not None:
            return self._unsupported(producer, f"its output '{name}' {why}")
        return UnsupportedOpError(f"{self.path}: value '{name}' {why}")


def _attr(node, name: str, default):
    import onnx

    for attr in node.attribute:
        if attr.name == name:
            value = onnx.helper.get_attribute_value(attr)
            return list(value) if isinstance(value, (list, tuple)) else value
    return default


def _per_tensor_scale(q: _QInput, path: str) -> float:
    if q.scale.size != 1:
        raise UnsupportedOpError(f"{path}: '{q.name}' has {q.scale.size} scales; activations must be quantized "
                                 "per tensor")
    return float(q.scale[0])


def _conv_out_hw(image, kernel, strides, dilations, pads) -> tuple[int, int]:
    return tuple(
        (image[i] + pads[i] + pads[i + 2] - ((kernel[i] - 1) * dilations[i] + 1)) // strides[i] + 1 for i in range(2))


def _conv_pads(node, image, kernel, strides, dilations) -> list[int]:
    """Explicit [top, left, bottom, right] pads, with auto_pad resolved as ONNX defines it."""
    auto = _attr(node, "auto_pad", b"NOTSET")
    auto = auto.decode() if isinstance(auto, bytes) else auto
    if auto in ("NOTSET", ""):
        pads = _attr(node, "pads", [0, 0, 0, 0])
        return list(pads) if len(pads) == 4 else [0, 0, 0, 0]
    if auto == "VALID":
        return [0, 0, 0, 0]
    begin, end = [], []
    for i in range(2):
        out = -(-image[i] // strides[i])
        total = max(0, (out - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1 - image[i])
        small, large = total // 2, total - total // 2
        first, second = (small, large) if auto == "SAME_UPPER" else (large, small)
        begin.append(first)
        end.append(second)
    return [begin[0], begin[1], end[0], end[1]]


def _tflite_padding(pads, image, kernel, strides, dilations) -> Padding | None:
    """The TFLite padding that places the window exactly as PADS does, or None."""
    if not any(pads):
        return Padding.VALID
    for i in range(2):
        out = -(-image[i] // strides[i])
        total = max(0, (out - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1 - image[i])
        if (pads[i], pads[i + 2]) != (total // 2, total - total // 2):
            return None
    return Padding.SAME


def _constant_to_nhwc(data: np.ndarray, rank: int) -> np.ndarray:
    """A broadcast operand written for NCHW, rearranged for an NHWC partner."""
    padded = data.reshape((1,) * (rank - data.ndim) + data.shape)
    return np.ascontiguousarray(padded.transpose(NCHW_TO_NHWC))
