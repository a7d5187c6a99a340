"""FULLY_CONNECTED: int8 (per-tensor or per-channel weights, any input rank) and 16x8."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edgeml.ir.dtypes import DType
from edgeml.ops.accumulate import exact_matmul_dtype, requantize_channels, requantize_channels_int64
from edgeml.ops.base import OpContext, OpSpec
from edgeml.ops.common import Activation, activation_range, require_dtype, require_quant
from edgeml.quant.requant import (
    Rounding,
    multiply_by_quantized_multiplier_array,
    multiply_by_quantized_multiplier_int64_array,
    quantize_multipliers,
)


@dataclass(frozen=True)
class FullyConnectedAttrs:
    activation: Activation = Activation.NONE
    keep_num_dims: bool = False


@dataclass(frozen=True, eq=False)
class FullyConnectedParams:
    input_offset: int
    filter_offset: int
    output_offset: int
    multiplier: np.ndarray  # (out_channels,) int64
    shift: np.ndarray
    lo: int
    hi: int
    rounding: Rounding
    wide: bool  # 16x8: 64-bit accumulation and reduced-multiplier requantization
    bias: np.ndarray  # (out_channels,) int64 or empty
    # (accum_depth, out_channels): filter + filter_offset, in the narrowest float type that sums exactly.
    weights_blas: np.ndarray
    accum_depth: int
    output_shape: tuple[int, ...]


def effective_scales(ctx: OpContext, input_scale: float, weight_quant, output_scale: float,
                     channels: int) -> np.ndarray:
    """Per-channel real multipliers as TFLite computes them.

    Per-tensor weights: float32(s_in * s_w) widened, then divided in double
    (GetQuantizedConvolutionMultipler); per-channel: double(s_in) * double(s_w) / double(s_out).
    """
    if weight_quant.scale.size == 1:
        product = float(np.float32(input_scale) * np.float32(weight_quant.single_scale))
        return np.full(channels, product / float(np.float32(output_scale)))
    scales = weight_quant.scale.astype(np.float64)
    if scales.size != channels:
        raise ctx.unsupported(f"weights have {scales.size} scales for {channels} output channels")
    return float(np.float32(input_scale)) * scales / float(np.float32(output_scale))


def prepare(ctx: OpContext) -> FullyConnectedParams:
    x, w, out = ctx.input(0), ctx.input(1), ctx.output()
    bias_tensor = ctx.optional_input(2)
    require_dtype(ctx, x, "input", DType.INT8, DType.INT16)
    require_dtype(ctx, w, "weights", DType.INT8)
    require_dtype(ctx, out, "output", x.dtype)
    wide = x.dtype is DType.INT16
    in_q, w_q, out_q = require_quant(ctx, x, "input"), require_quant(ctx, w, "weights"), require_quant(
        ctx, out, "output")
    weights = ctx.constant(1).astype(np.int64)
    out_channels, accum_depth = weights.shape
    if x.num_elements % accum_depth:
        raise ctx.unsupported(f"input of {x.num_elements} elements is not a multiple of depth {accum_depth}")
    filter_offset = -int(w_q.zero_point.reshape(-1)[0]) if w_q.zero_point.size else 0
    real = effective_scales(ctx, in_q.single_scale, w_q, out_q.single_scale, out_channels)
    multiplier, shift = quantize_multipliers(real, ctx.numerics.rounding)
    lo, hi = activation_range(ctx, ctx.attrs.activation, out)
    bias = (ctx.constant(2).astype(np.int64).reshape(-1) if bias_tensor is not None
            else np.zeros(0, np.int64))
    return FullyConnectedParams(
        input_offset=-in_q.single_zero_point, filter_offset=filter_offset,
        output_offset=out_q.single_zero_point, multiplier=multiplier, shift=shift, lo=lo, hi=hi,
        rounding=ctx.numerics.rounding, wide=wide, bias=bias,
        weights_blas=_blas_weights(x.dtype, -in_q.single_zero_point, (weights + filter_offset).T),
        accum_depth=accum_depth, output_shape=out.shape,
    )


def _blas_weights(input_dtype: DType, input_offset: int, weights: np.ndarray) -> np.ndarray:
    lo, hi = np.iinfo(input_dtype.np).min, np.iinfo(input_dtype.np).max
    max_abs_input = max(abs(lo + input_offset), abs(hi + input_offset))
    return np.ascontiguousarray(weights.astype(exact_matmul_dtype(max_abs_input, weights)))


def reference(p: FullyConnectedParams, inputs) -> list[np.ndarray]:
    x = inputs[0].astype(np.int64).reshape(-1, p.accum_depth) + p.input_offset
    w = p.weights_blas.astype(np.int64)
    acc = x @ w
    if p.bias.size:
        acc = acc + p.bias
    if p.wide:
        scaled = multiply_by_quantized_multiplier_int64_array(acc, p.multiplier, p.shift)
    else:
        scaled = multiply_by_quantized_multiplier_array(acc, p.multiplier, p.shift, p.rounding)
    y = np.clip(scaled + p.output_offset, p.lo, p.hi)
    return [y.astype(inputs[0].dtype).reshape(p.output_shape)]


def kernel(p: FullyConnectedParams, inputs, outputs) -> None:
    # Integer products summed in a float type that holds every partial sum exactly: BLAS does the MACs.
    x = inputs[0].reshape(-1, p.accum_depth).astype(p.weights_blas.dtype)
    if p.input_offset:
        x += p.input_offset
    acc = x @ p.weights_blas
    out = outputs[0].reshape(acc.shape)
    if p.wide:
        requantize_channels_int64(acc, p.bias, p.multiplier, p.shift, p.output_offset, p.lo, p.hi, out)
    else:
        requantize_channels(acc, p.bias, p.multiplier, p.shift, p.output_offset, p.lo, p.hi,
                            int(p.rounding), out)


def macs(ctx: OpContext) -> int:
    return ctx.output().num_elements * ctx.input(1).shape[1]


SPEC = OpSpec(name="FULLY_CONNECTED", prepare=prepare, reference=reference, kernel=kernel, macs=macs)
