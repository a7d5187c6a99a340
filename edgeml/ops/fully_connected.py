"""FULLY_CONNECTED: int8 (per-tensor or per-channel weights, any input rank) and 16x8."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import numpy as np
from numba import njit

from edgeml.codegen.c_values import CArray, CCall
from edgeml.ir.dtypes import DType
from edgeml.ops.accumulate import exact_matmul_dtype, requantize_channels, requantize_channels_int64
from edgeml.ops.base import ALL_NUMERICS, OpContext, OpSpec
from edgeml.ops.common import Activation, activation_range, require_dtype, require_quant
from edgeml.ops.conv_common import ConvQuant, activation_dtypes, conv_quant, requantize_reference, requantize_rows
from edgeml.quant.requant import (
    Rounding,
    multiply_by_quantized_multiplier,
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
    # Few rows (a batch-1 FC): exact int32 dot products in numba beat BLAS and its float conversion.
    # (out_channels, accum_depth) filter + filter_offset (int8 when it fits, else int16), or None: BLAS.
    weights_int: np.ndarray | None = None
    bias_folded: np.ndarray | None = None  # (out_channels,) int64: bias + input_offset * sum_k weights
    # onnxruntime numerics (QLinearMatMul, Gemm, MatMulInteger): its requantization, weight zero points
    # applied; weights_blas then holds float64 (w - w_zp).T and the integer fields are unused.
    onnx_quant: ConvQuant | None = None


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
    if ctx.numerics.is_onnx:
        return _prepare_onnx(ctx)
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
    rows = x.num_elements // accum_depth
    weights_int, bias_folded = _integer_dot_weights(weights + filter_offset, bias, -in_q.single_zero_point,
                                                    rows, wide)
    return FullyConnectedParams(
        input_offset=-in_q.single_zero_point, filter_offset=filter_offset,
        output_offset=out_q.single_zero_point, multiplier=multiplier, shift=shift, lo=lo, hi=hi,
        rounding=ctx.numerics.rounding, wide=wide, bias=bias,
        weights_blas=_blas_weights(x.dtype, -in_q.single_zero_point, (weights + filter_offset).T),
        accum_depth=accum_depth, output_shape=out.shape, weights_int=weights_int, bias_folded=bias_folded,
    )


def _prepare_onnx(ctx: OpContext) -> FullyConnectedParams:
    x, w, out = ctx.input(0), ctx.input(1), ctx.output()
    activation_dtypes(ctx, x, w, out)
    out_channels, accum_depth = w.shape
    if x.num_elements % accum_depth:
        raise ctx.unsupported(f"input of {x.num_elements} elements is not a multiple of depth {accum_depth}")
    quant = conv_quant(ctx, x, w, out, ctx.optional_input(2), out_channels, 0, ctx.attrs.activation, False,
                       Rounding.SINGLE)
    weights = quant.offset_weights(ctx.constant(1), 0)
    empty = np.zeros(0, np.int64)
    return FullyConnectedParams(
        input_offset=quant.input_offset, filter_offset=0, output_offset=quant.output_offset, multiplier=empty,
        shift=empty, lo=quant.lo, hi=quant.hi, rounding=Rounding.SINGLE, wide=False, bias=quant.bias,
        weights_blas=np.ascontiguousarray(weights.T.astype(np.float64)), accum_depth=accum_depth,
        output_shape=out.shape, onnx_quant=quant,
    )


def _onnx_forward(p: FullyConnectedParams, x: np.ndarray, out: np.ndarray) -> None:
    """float64 sums of int8 products are exact far beyond any real depth (2^53 / 2^16)."""
    rows = x.reshape(-1, p.accum_depth).astype(np.float64) + p.input_offset
    requantize_rows(rows @ p.weights_blas, p.onnx_quant, out)


MAX_DOT_ROWS = 4  # beyond this BLAS's register blocking wins


def _integer_dot_weights(weights: np.ndarray, bias: np.ndarray, input_offset: int, rows: int,
                         wide: bool) -> tuple[np.ndarray | None, np.ndarray | None]:
    """int16 weights and the input offset folded into the bias, when int32 dot products are exact.

    sum_k (x + offset) * w = sum_k x * w + offset * sum_k w; |x| <= 128, so every partial sum of
    x * w is bounded by 128 * sum_k |w|, which must fit int32.
    """
    if wide or rows > MAX_DOT_ROWS or 128 * int(np.abs(weights).sum(axis=1).max(initial=0)) >= 1 << 31:
        return None, None
    folded = input_offset * weights.sum(axis=1)
    if bias.size:
        folded = folded + bias
    # int8 storage when the values fit (zero weight zero point): half the memory traffic.
    storage = np.int8 if weights.min(initial=0) >= -128 and weights.max(initial=0) <= 127 else np.int16
    return np.ascontiguousarray(weights.astype(storage)), folded.astype(np.int64)


def _blas_weights(input_dtype: DType, input_offset: int, weights: np.ndarray) -> np.ndarray:
    lo, hi = np.iinfo(input_dtype.np).min, np.iinfo(input_dtype.np).max
    max_abs_input = max(abs(lo + input_offset), abs(hi + input_offset))
    return np.ascontiguousarray(weights.astype(exact_matmul_dtype(max_abs_input, weights)))


def reference(p: FullyConnectedParams, inputs) -> list[np.ndarray]:
    if p.onnx_quant is not None:
        x = inputs[0].astype(np.int64).reshape(-1, p.accum_depth) + p.input_offset
        acc = x @ p.weights_blas.astype(np.int64)
        return [requantize_reference(acc, p.onnx_quant, inputs[0].dtype).reshape(p.output_shape)]
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


@njit(cache=True)
def dot_rows(x, weights, bias, multiplier, shift, out_zero_point, lo, hi, rounding, out):
    """out[r, o] = clamp(MBQM(sum_k x[r, k] * weights[o, k] + bias[o]) + zp): int32 dot products that LLVM
    turns into vpmaddwd, requantized as they come out."""
    rows, depth = x.shape
    channels = weights.shape[0]
    for r in range(rows):
        for o in range(channels):
            total = np.int32(0)
            for k in range(depth):
                total += np.int32(np.int16(x[r, k])) * np.int32(np.int16(weights[o, k]))
            value = multiply_by_quantized_multiplier(np.int64(total) + bias[o], multiplier[o], shift[o], rounding)
            out[r, o] = min(max(value + out_zero_point, lo), hi)


def bind(p: FullyConnectedParams, inputs, outputs) -> Callable[[], None]:
    """The kernel with its arrays resolved once: the integer dot path is a single numba call."""
    if p.weights_int is None or p.onnx_quant is not None:
        return partial(kernel, p, inputs, outputs)
    return partial(dot_rows, *_dot_rows_args(p, inputs, outputs))


def _dot_rows_args(p: FullyConnectedParams, inputs, outputs) -> tuple:
    x = inputs[0].reshape(-1, p.accum_depth)
    out = outputs[0].reshape(x.shape[0], p.weights_int.shape[0])  # ValueError when the shapes disagree
    return x, p.weights_int, p.bias_folded, p.multiplier, p.shift, p.output_offset, p.lo, p.hi, int(p.rounding), out


def kernel(p: FullyConnectedParams, inputs, outputs) -> None:
    if p.onnx_quant is not None:
        _onnx_forward(p, inputs[0], outputs[0])
        return
    if p.weights_int is not None:
        dot_rows(*_dot_rows_args(p, inputs, outputs))
        return
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


def c_emit(p: FullyConnectedParams, ctx: OpContext) -> CCall:
    if p.onnx_quant is not None:
        multiplier, shift, rounding = p.onnx_quant.c_requant(ctx)
    else:
        multiplier, shift, rounding = p.multiplier, p.shift, int(p.rounding)
    channels = len(multiplier)
    bias = p.bias if p.bias.size else None
    return CCall(
        module="fully_connected",
        function="edg_fully_connected_s16" if p.wide else "edg_fully_connected_s8",
        params_type="edg_fully_connected_params_t",
        fields={
            "rows": ctx.input(0).num_elements // p.accum_depth, "depth": p.accum_depth, "channels": channels,
            "input_offset": p.input_offset, "filter_offset": p.filter_offset, "output_offset": p.output_offset,
            "lo": p.lo, "hi": p.hi, "rounding": rounding,
            "multiplier": CArray(multiplier), "shift": CArray(shift),
            **({"bias64" if p.wide else "bias32": CArray(bias, np.int64 if p.wide else np.int32)}
               if bias is not None else {}),
        },
        omit_inputs=(2,),
    )


SPEC = OpSpec(name="FULLY_CONNECTED", prepare=prepare, reference=reference, kernel=kernel, macs=macs, bind=bind,
              c_emit=c_emit, numerics=ALL_NUMERICS, c_numerics=ALL_NUMERICS)
