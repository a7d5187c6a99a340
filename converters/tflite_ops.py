"""TFLite builtin operator -> edgeml op name and attrs, one entry per supported operator.

Each parser reads the operator's builtin options table (fields by schema index) into the op's
attrs dataclass. Operators that only need their name map with no parser.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from edgeml.converters.flatbuffer import Table
from edgeml.ops.add_sub import AddSubAttrs
from edgeml.ops.batch_matmul import BatchMatMulAttrs
from edgeml.ops.common import Activation, Padding
from edgeml.ops.concatenation import ConcatenationAttrs
from edgeml.ops.conv2d import Conv2DAttrs
from edgeml.ops.depthwise_conv2d import DepthwiseConv2DAttrs
from edgeml.ops.fully_connected import FullyConnectedAttrs
from edgeml.ops.gelu import GeluAttrs
from edgeml.ops.leaky_relu import LeakyReluAttrs
from edgeml.ops.mean import ReducerAttrs
from edgeml.ops.mul import MulAttrs
from edgeml.ops.pool2d import Pool2DAttrs
from edgeml.ops.softmax import SoftmaxAttrs
from edgeml.ops.strided_slice import StridedSliceAttrs
from edgeml.ops.transpose_conv import TransposeConvAttrs

OptionsParser = Callable[[Table | None], Any]


@dataclass(frozen=True)
class OpMapping:
    op: str  # edgeml op name
    parse: OptionsParser | None = None


def _activation(options: Table | None, field: int) -> Activation:
    return Activation(options.scalar(field, "b", 0)) if options else Activation.NONE


def _fully_connected(options: Table | None) -> FullyConnectedAttrs:
    if options is None:
        return FullyConnectedAttrs()
    weights_format = options.scalar(1, "b", 0)
    if weights_format != 0:
        raise ValueError(f"weights_format {weights_format} (shuffled weights) is not supported")
    return FullyConnectedAttrs(activation=_activation(options, 0), keep_num_dims=bool(options.scalar(2, "?", False)))


def _conv_2d(options: Table | None) -> Conv2DAttrs:
    if options is None:
        return Conv2DAttrs()
    return Conv2DAttrs(
        padding=Padding(options.scalar(0, "b", 0)), stride_w=options.scalar(1, "i", 0),
        stride_h=options.scalar(2, "i", 0), activation=_activation(options, 3),
        dilation_w=options.scalar(4, "i", 1), dilation_h=options.scalar(5, "i", 1),
    )


def _depthwise_conv_2d(options: Table | None) -> DepthwiseConv2DAttrs:
    if options is None:
        return DepthwiseConv2DAttrs()
    return DepthwiseConv2DAttrs(
        padding=Padding(options.scalar(0, "b", 0)), stride_w=options.scalar(1, "i", 0),
        stride_h=options.scalar(2, "i", 0), depth_multiplier=options.scalar(3, "i", 0),
        activation=_activation(options, 4), dilation_w=options.scalar(5, "i", 1),
        dilation_h=options.scalar(6, "i", 1),
    )


def _transpose_conv(options: Table | None) -> TransposeConvAttrs:
    if options is None:
        return TransposeConvAttrs()
    return TransposeConvAttrs(
        padding=Padding(options.scalar(0, "b", 0)), stride_w=options.scalar(1, "i", 0),
        stride_h=options.scalar(2, "i", 0), activation=_activation(options, 3),
    )


def _pool_2d(options: Table | None) -> Pool2DAttrs:
    if options is None:
        return Pool2DAttrs()
    return Pool2DAttrs(
        padding=Padding(options.scalar(0, "b", 0)), stride_w=options.scalar(1, "i", 0),
        stride_h=options.scalar(2, "i", 0), filter_w=options.scalar(3, "i", 0),
        filter_h=options.scalar(4, "i", 0), activation=_activation(options, 5),
    )


def _softmax(options: Table | None) -> SoftmaxAttrs:
    return SoftmaxAttrs(beta=options.scalar(0, "f", 0.0)) if options else SoftmaxAttrs(beta=0.0)


def _reducer(options: Table | None) -> ReducerAttrs:
    return ReducerAttrs(keep_dims=bool(options.scalar(0, "?", False))) if options else ReducerAttrs()


def _strided_slice(options: Table | None) -> StridedSliceAttrs:
    if options is None:
        return StridedSliceAttrs()
    masks = [options.scalar(i, "i", 0) for i in range(5)]
    return StridedSliceAttrs(*masks, offset=bool(options.scalar(5, "?", False)))


def _concatenation(options: Table | None) -> ConcatenationAttrs:
    if options is None:
        return ConcatenationAttrs()
    return ConcatenationAttrs(axis=options.scalar(0, "i", 0), activation=_activation(options, 1))


def _batch_matmul(options: Table | None) -> BatchMatMulAttrs:
    if options is None:
        return BatchMatMulAttrs()
    return BatchMatMulAttrs(*(bool(options.scalar(i, "?", False)) for i in range(3)))


def _add_sub(options: Table | None) -> AddSubAttrs:
    if options is None:
        return AddSubAttrs()
    return AddSubAttrs(activation=_activation(options, 0), pot_scale_int16=bool(options.scalar(1, "?", True)))


def _mul(options: Table | None) -> MulAttrs:
    return MulAttrs(activation=_activation(options, 0))


def _leaky_relu(options: Table | None) -> LeakyReluAttrs:
    return LeakyReluAttrs(alpha=float(options.scalar(0, "f", 0.0))) if options else LeakyReluAttrs(alpha=0.0)


def _gelu(options: Table | None) -> GeluAttrs:
    return GeluAttrs(approximate=bool(options.scalar(0, "?", False))) if options else GeluAttrs()


# Keyed by the BuiltinOperator code.
TFLITE_OPS: dict[int, OpMapping] = {
    1: OpMapping("AVERAGE_POOL_2D", _pool_2d),
    17: OpMapping("MAX_POOL_2D", _pool_2d),
    25: OpMapping("SOFTMAX", _softmax),
    34: OpMapping("PAD"),
    39: OpMapping("TRANSPOSE"),
    40: OpMapping("MEAN", _reducer),
    45: OpMapping("STRIDED_SLICE", _strided_slice),
    60: OpMapping("PADV2"),
    126: OpMapping("BATCH_MATMUL", _batch_matmul),
    2: OpMapping("CONCATENATION", _concatenation),
    3: OpMapping("CONV_2D", _conv_2d),
    4: OpMapping("DEPTHWISE_CONV_2D", _depthwise_conv_2d),
    9: OpMapping("FULLY_CONNECTED", _fully_connected),
    22: OpMapping("RESHAPE"),
    43: OpMapping("RESHAPE"),  # SQUEEZE
    67: OpMapping("TRANSPOSE_CONV", _transpose_conv),
    70: OpMapping("RESHAPE"),  # EXPAND_DIMS
    0: OpMapping("ADD", _add_sub),
    41: OpMapping("SUB", _add_sub),
    18: OpMapping("MUL", _mul),
    99: OpMapping("SQUARED_DIFFERENCE"),
    76: OpMapping("RSQRT"),
    98: OpMapping("LEAKY_RELU", _leaky_relu),
    114: OpMapping("QUANTIZE"),
    6: OpMapping("DEQUANTIZE"),
    59: OpMapping("NEG"),
    150: OpMapping("GELU", _gelu),
    14: OpMapping("LOGISTIC"),
    28: OpMapping("TANH"),
}
