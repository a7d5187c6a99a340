"""A float TFLite model written as a float ONNX model, so that edgeml's ONNX quantizer can quantize it.

Float .tflite files (MLPerf Tiny's *_float models, for instance) have no Keras or SavedModel source
that TensorFlow's converter could start from. Their graph is read into the IR and written back as
ONNX: NHWC values are transposed to NCHW around convolutions and pools, weights are reordered
(OHWI -> OIHW, depthwise 1HWC -> C1HW), SAME padding becomes explicit pads as TFLite places them,
fused activations become Relu or Clip, and weights stored as int8 behind a DEQUANTIZE (dynamic-range
models) are dequantized. The ONNX model computes what the TFLite model computes (checked against
ai-edge-litert by the tests).
"""

from __future__ import annotations

import numpy as np

from edgeml.errors import UnsupportedOpError
from edgeml.ir.graph import Graph, Tensor
from edgeml.ops.common import Activation, Padding

NHWC_TO_NCHW = (0, 3, 1, 2)
NCHW_TO_NHWC = (0, 2, 3, 1)
OPSET = 13


def tflite_graph_to_onnx(graph: Graph) -> bytes:
    """The float ONNX model (serialized) of a float TFLite graph."""
    return _Writer(graph).write()


def is_float_graph(graph: Graph) -> bool:
    return bool(graph.inputs) and all(graph.tensors[i].dtype.is_float for i in graph.inputs) and all(
        graph.tensors[i].dtype.is_float for i in graph.outputs)


class _Writer:
    def __init__(self, graph: Graph):
        self.graph = graph
        self.nodes: list = []
        self.initializers: list = []
        self.names: dict[int, str] = {}
        self.nchw: dict[int, str] = {}  # tensor index -> name of its NCHW copy
        self.layout_of: dict[str, str] = {}  # ONNX value name -> "nhwc" or "nchw" (4-D values)
        self.folded: dict[int, np.ndarray] = {}  # DEQUANTIZE outputs of constants

    def write(self) -> bytes:
        import onnx
        from onnx import TensorProto, helper

        graph = self.graph
        inputs = []
        for index in graph.inputs:
            tensor = graph.tensors[index]
            inputs.append(helper.make_tensor_value_info(self._name(index), TensorProto.FLOAT, list(tensor.shape)))
            self.layout_of[self._name(index)] = "nhwc"
        for position, node in enumerate(graph.nodes):
            self._node(position, node)
        outputs = []
        for index in graph.outputs:
            name = self._nhwc_name(index)
            final = self._name(index) + "_out" if name != self._name(index) else name
            if final != name:
                self.nodes.append(helper.make_node("Identity", [name], [final]))
            outputs.append(helper.make_tensor_value_info(final, TensorProto.FLOAT,
                                                         list(graph.tensors[index].shape)))
        model = helper.make_model(helper.make_graph(self.nodes, graph.name or "tflite", inputs, outputs,
                                                    self.initializers),
                                  opset_imports=[helper.make_opsetid("", OPSET)], ir_version=8,
                                  producer_name="edgeml tflite_float_onnx")
        onnx.checker.check_model(model)
        return model.SerializeToString()

    # ------------------------------------------------------------------ names and constants

    def _name(self, index: int) -> str:
        if index not in self.names:
            tensor = self.graph.tensors[index]
            self.names[index] = f"t{index}_{tensor.name}".replace(":", "_")[:120]
        return self.names[index]

    def _const(self, name: str, value: np.ndarray) -> str:
        from onnx import numpy_helper

        self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def _constant_value(self, index: int) -> np.ndarray:
        if index in self.folded:
            return self.folded[index]
        tensor = self.graph.tensors[index]
        if tensor.data is None:
            raise UnsupportedOpError(f"{self.graph.source_path}: tensor {tensor.name} must be a constant")
        return tensor.data

    def _float_weights(self, index: int) -> np.ndarray:
        value = self._constant_value(index)
        return value.astype(np.float32) if value.dtype.kind == "f" else _dequantize(self.graph.tensors[index], value)

    def _nchw_name(self, index: int) -> str:
        name = self._name(index)
        if self.layout_of.get(name) == "nchw" or len(self.graph.tensors[index].shape) != 4:
            return name
        if index not in self.nchw:
            from onnx import helper

            target = name + "_nchw"
            self.nodes.append(helper.make_node("Transpose", [name], [target], perm=list(NHWC_TO_NCHW)))
            self.layout_of[target] = "nchw"
            self.nchw[index] = target
        return self.nchw[index]

    def _nhwc_name(self, index: int) -> str:
        from onnx import helper

        name = self._name(index)
        if self.layout_of.get(name) != "nchw":
            return name
        target = name + "_nhwc"
        if target not in self.layout_of:
            self.nodes.append(helper.make_node("Transpose", [name], [target], perm=list(NCHW_TO_NHWC)))
            self.layout_of[target] = "nhwc"
        return target

    def _activation(self, raw: str, out_index: int, activation: Activation, layout: str) -> None:
        from onnx import helper

        final = self._name(out_index)
        if activation is Activation.NONE:
            self.nodes[-1].output[0] = final
        elif activation is Activation.RELU:
            self.nodes.append(helper.make_node("Relu", [raw], [final]))
        elif activation in (Activation.RELU6, Activation.RELU_N1_TO_1):
            lo, hi = (0.0, 6.0) if activation is Activation.RELU6 else (-1.0, 1.0)
            self.nodes.append(helper.make_node("Clip", [raw, self._const(final + "_lo", np.array(lo, np.float32)),
                                                        self._const(final + "_hi", np.array(hi, np.float32))],
                                               [final]))
        else:
            raise UnsupportedOpError(f"{self.graph.source_path}: fused activation {activation.name}")
        self.layout_of[final] = layout

    # ------------------------------------------------------------------ ops

    def _node(self, position: int, node) -> None:
        from onnx import helper

        op = node.op
        g = self.graph
        out = node.outputs[0]
        label = g.node_label(position)
        if op == "DEQUANTIZE" and g.tensors[node.inputs[0]].data is not None:
            tensor = g.tensors[node.inputs[0]]
            self.folded[out] = _dequantize(tensor, tensor.data)
            return
        if op in ("CONV_2D", "DEPTHWISE_CONV_2D"):
            x, w = node.inputs[0], node.inputs[1]
            weights = self._float_weights(w)
            attrs = node.attrs
            if op == "CONV_2D":
                onnx_weights, group = weights.transpose(0, 3, 1, 2), 1
            else:
                onnx_weights, group = weights[0].transpose(2, 0, 1)[:, None], g.tensors[x].shape[3]
            kernel = list(onnx_weights.shape[2:])
            strides = [attrs.stride_h, attrs.stride_w]
            dilations = [attrs.dilation_h, attrs.dilation_w]
            pads = _tflite_pads(attrs.padding, g.tensors[x].shape[1:3], g.tensors[out].shape[1:3], kernel, strides,
                                dilations)
            inputs = [self._nchw_name(x), self._const(self._name(out) + "_W", onnx_weights.astype(np.float32))]
            if len(node.inputs) > 2 and node.inputs[2] >= 0:
                inputs.append(self._const(self._name(out) + "_B", self._float_weights(node.inputs[2])))
            raw = self._name(out) + "_conv"
            self.nodes.append(helper.make_node("Conv", inputs, [raw], kernel_shape=kernel, strides=strides,
                                               dilations=dilations, pads=pads, group=group, name=label))
            self._activation(raw, out, attrs.activation, "nchw")
            return
        if op == "FULLY_CONNECTED":
            x = node.inputs[0]
            weights = self._float_weights(node.inputs[1])
            source = self._nhwc_name(x)
            if len(g.tensors[x].shape) != 2:
                flat = self._name(out) + "_flat"
                self.nodes.append(helper.make_node("Reshape", [source, self._const(
                    flat + "_shape", np.array([-1, weights.shape[1]], np.int64))], [flat]))
                source = flat
            inputs = [source, self._const(self._name(out) + "_W", weights)]
            if len(node.inputs) > 2 and node.inputs[2] >= 0:
                inputs.append(self._const(self._name(out) + "_B", self._float_weights(node.inputs[2])))
            raw = self._name(out) + "_gemm"
            self.nodes.append(helper.make_node("Gemm", inputs, [raw], transB=1, name=label))
            self._activation(raw, out, node.attrs.activation, "nhwc")
            return
        if op in ("AVERAGE_POOL_2D", "MAX_POOL_2D"):
            self._pool(node, label)
            return
        if op == "RESHAPE":
            shape = np.array(g.tensors[out].shape, np.int64)
            self.nodes.append(helper.make_node("Reshape", [self._nhwc_name(node.inputs[0]), self._const(
                self._name(out) + "_shape", shape)], [self._name(out)], name=label))
            return
        if op == "SOFTMAX":
            source = self._nhwc_name(node.inputs[0])
            beta = getattr(node.attrs, "beta", 1.0)
            if beta != 1.0:
                scaled = self._name(out) + "_beta"
                self.nodes.append(helper.make_node("Mul", [source, self._const(scaled + "_b", np.array(
                    beta, np.float32))], [scaled]))
                source = scaled
            self.nodes.append(helper.make_node("Softmax", [source], [self._name(out)], axis=-1, name=label))
            return
        if op == "ADD":
            a, b = node.inputs
            layout = "nchw" if self.layout_of.get(self._name(a)) == "nchw" else "nhwc"
            names = [self._nchw_name(i) if layout == "nchw" else self._nhwc_name(i) for i in (a, b)]
            raw = self._name(out) + "_add"
            self.nodes.append(helper.make_node("Add", names, [raw], name=label))
            self._activation(raw, out, node.attrs.activation, layout)
            return
        raise UnsupportedOpError(f"{g.source_path}: {label}: no ONNX form for float {op} in edgeml's exporter")

    def _pool(self, node, label: str) -> None:
        from onnx import helper

        g = self.graph
        x, out = node.inputs[0], node.outputs[0]
        attrs = node.attrs
        in_hw, out_hw = g.tensors[x].shape[1:3], g.tensors[out].shape[1:3]
        raw = self._name(out) + "_pool"
        if node.op == "AVERAGE_POOL_2D" and tuple(out_hw) == (1, 1) and (attrs.filter_h, attrs.filter_w) == tuple(
                in_hw) and attrs.padding is Padding.VALID:
            self.nodes.append(helper.make_node("GlobalAveragePool", [self._nchw_name(x)], [raw], name=label))
        else:
            kernel = [attrs.filter_h, attrs.filter_w]
            strides = [attrs.stride_h, attrs.stride_w]
            pads = _tflite_pads(attrs.padding, in_hw, out_hw, kernel, strides, [1, 1])
            kind = "AveragePool" if node.op == "AVERAGE_POOL_2D" else "MaxPool"
            extra = {"count_include_pad": 0} if kind == "AveragePool" else {}
            self.nodes.append(helper.make_node(kind, [self._nchw_name(x)], [raw], kernel_shape=kernel,
                                               strides=strides, pads=pads, name=label, **extra))
        self._activation(raw, out, attrs.activation, "nchw")


def _dequantize(tensor: Tensor, values: np.ndarray) -> np.ndarray:
    q = tensor.quant
    if q is None:
        return values.astype(np.float32)
    scale = q.scale.astype(np.float32)
    zero_point = q.zero_point.astype(np.float32)
    if q.axis is not None and scale.size > 1:
        shape = [1] * values.ndim
        shape[q.axis] = -1
        scale, zero_point = scale.reshape(shape), zero_point.reshape(shape)
    return ((values.astype(np.float32) - zero_point) * scale).astype(np.float32)


def _tflite_pads(padding: Padding, in_hw, out_hw, kernel, strides, dilations) -> list[int]:
    """ONNX [top, left, bottom, right] pads placing the window as TFLite does (extra padding at the end)."""
    if padding is Padding.VALID:
        return [0, 0, 0, 0]
    begin, end = [], []
    for i in range(2):
        effective = (kernel[i] - 1) * dilations[i] + 1
        total = max((out_hw[i] - 1) * strides[i] + effective - in_hw[i], 0)
        begin.append(total // 2)
        end.append(total - total // 2)
    return [begin[0], begin[1], end[0], end[1]]
