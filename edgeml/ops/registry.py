"""The explicit list of operators edgeml supports. One line per op module."""

from __future__ import annotations

from edgeml.errors import UnsupportedOpError
from edgeml.ops import (
    add_sub,
    batch_matmul,
    concatenation,
    conv2d,
    depthwise_conv2d,
    dequantize,
    float_unary,
    fully_connected,
    gelu,
    leaky_relu,
    logistic_tanh,
    mean,
    mul,
    pad,
    pool2d,
    quantize,
    reshape,
    rsqrt,
    softmax,
    squared_difference,
    strided_slice,
    transpose,
    transpose_conv,
)
from edgeml.ops.base import OpSpec

_SPECS: tuple[OpSpec, ...] = (
    conv2d.SPEC,
    depthwise_conv2d.SPEC,
    fully_connected.SPEC,
    transpose_conv.SPEC,
    reshape.SPEC,
    pool2d.AVERAGE_SPEC,
    pool2d.MAX_SPEC,
    softmax.SPEC,
    mean.SPEC,
    pad.SPEC,
    pad.SPEC_V2,
    transpose.SPEC,
    strided_slice.SPEC,
    batch_matmul.SPEC,
    concatenation.SPEC,
    add_sub.ADD_SPEC,
    add_sub.SUB_SPEC,
    mul.SPEC,
    squared_difference.SPEC,
    rsqrt.SPEC,
    leaky_relu.SPEC,
    quantize.SPEC,
    dequantize.SPEC,
    float_unary.NEG_SPEC,
    gelu.SPEC,
    logistic_tanh.LOGISTIC_SPEC,
    logistic_tanh.TANH_SPEC,
)

REGISTRY: dict[str, OpSpec] = {spec.name: spec for spec in _SPECS}


def get_spec(op: str) -> OpSpec:
    try:
        return REGISTRY[op]
    except KeyError:
        raise UnsupportedOpError(f"operator {op} has no OpSpec in edgeml") from None
