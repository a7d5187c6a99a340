"""Helpers shared by several ops: fused activations, dtype limits, quantization checks."""

from __future__ import annotations

import enum

import numpy as np

from edgeml.ir.dtypes import DType
from edgeml.ir.graph import Tensor
from edgeml.ir.quant import QuantParams
from edgeml.ops.base import OpContext


class Activation(enum.IntEnum):
    NONE = 0
    RELU = 1
    RELU_N1_TO_1 = 2
    RELU6 = 3
    TANH = 4
    SIGN_BIT = 5


class Padding(enum.IntEnum):
    SAME = 0
    VALID = 1


def dtype_limits(dtype: DType) -> tuple[int, int]:
    info = np.iinfo(dtype.np)
    return int(info.min), int(info.max)


def activation_range(ctx: OpContext, activation: Activation, output: Tensor) -> tuple[int, int]:
    """TFLite's CalculateActivationRangeQuantized: clamp bounds in the output's integer domain."""
    qmin, qmax = dtype_limits(output.dtype)
    if activation is Activation.NONE:
        return qmin, qmax
    quant = require_quant(ctx, output, "output")
    scale = np.float32(quant.single_scale)
    zp = quant.single_zero_point

    def quantize(value: float) -> int:
        # float32 division, then round half away from zero, as TfLiteRound does.
        q = float(np.float32(value) / scale)
        return zp + (int(np.floor(q + 0.5)) if q >= 0 else -int(np.floor(-q + 0.5)))

    if activation is Activation.RELU:
        return max(qmin, quantize(0.0)), qmax
    if activation is Activation.RELU6:
        return max(qmin, quantize(0.0)), min(qmax, quantize(6.0))
    if activation is Activation.RELU_N1_TO_1:
        return max(qmin, quantize(-1.0)), min(qmax, quantize(1.0))
    raise ctx.unsupported(f"fused activation {activation.name} is not supported")


def require_quant(ctx: OpContext, tensor: Tensor | None, role: str) -> QuantParams:
    if tensor is None or tensor.quant is None or tensor.quant.scale.size == 0:
        name = tensor.name if tensor is not None else "?"
        raise ctx.unsupported(f"{role} tensor {name} has no quantization parameters")
    return tensor.quant


def require_dtype(ctx: OpContext, tensor: Tensor, role: str, *allowed: DType) -> None:
    if tensor.dtype not in allowed:
        names = ", ".join(d.value for d in allowed)
        raise ctx.unsupported(f"{role} tensor {tensor.name} is {tensor.dtype.value}; supported: {names}")


def round_half_away(x: float) -> int:
    return int(np.floor(x + 0.5)) if x >= 0 else -int(np.floor(-x + 0.5))


def compute_padding(stride: int, dilation: int, in_size: int, filter_size: int, out_size: int,
                    padding: Padding) -> int:
    """TFLite's ComputePaddingWithOffset, returning the leading pad (offset ignored: reference)."""
    if padding is Padding.VALID:
        return 0
    effective = (filter_size - 1) * dilation + 1
    total = max((out_size - 1) * stride + effective - in_size, 0)
    return total // 2
