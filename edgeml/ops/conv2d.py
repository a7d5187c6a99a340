"""CONV_2D: int8 (per-channel or per-tensor weights) and 16x8, any stride, dilation and padding.

Kernel: im2col into a reused float matrix, then one BLAS matmul with the weights. The sums are
integers that the chosen float type provably holds exactly (float32 when a bound from the actual
weights fits 24 bits, else float64), so the result equals the references' int32 / int64
accumulators bit for bit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from edgeml.codegen.c_values import CCall
from edgeml.ops.base import ALL_NUMERICS, OpContext, OpSpec
from edgeml.ops.common import Activation, Padding
from edgeml.ops.conv_common import (
    CONV_ROUNDING,
    ConvGeometry,
    ConvQuant,
    activation_dtypes,
    c_fields,
    c_function,
    check_scratch,
    conv_quant,
    exact_float_dtype,
    forward_geometry,
    im2col,
    requantize_reference,
    requantize_rows,
    requantize_rows_call,
    require_rank4,
    valid_taps,
)


@dataclass(frozen=True)
class Conv2DAttrs:
    padding: Padding = Padding.SAME
    stride_w: int = 0
    stride_h: int = 0
    activation: Activation = Activation.NONE
    dilation_w: int = 1
    dilation_h: int = 1


@dataclass(frozen=True, eq=False)
class Conv2DParams:
    geometry: ConvGeometry
    quant: ConvQuant
    weights: np.ndarray  # (out_c, filter_h, filter_w, in_c) int64, minus any weight zero point
    weights_float: np.ndarray  # (filter_h * filter_w * in_c, out_c), float32 or float64 (exact_float_dtype)
    cols: np.ndarray  # scratch: (rows, filter_h * filter_w * in_c), same float type
    acc: np.ndarray  # scratch: (rows, out_c), same float type


def prepare(ctx: OpContext) -> Conv2DParams:
    attrs: Conv2DAttrs = ctx.attrs
    x, w, out = ctx.input(0), ctx.input(1), ctx.output()
    wide = activation_dtypes(ctx, x, w, out)
    weights = ctx.constant(1)
    out_c, filter_h, filter_w, filter_in_c = require_rank4(ctx, w, "weights")
    g = forward_geometry(ctx, x, out, filter_h, filter_w, out_c, attrs.padding, attrs.stride_h, attrs.stride_w,
                         attrs.dilation_h, attrs.dilation_w)
    if filter_in_c != g.in_c:
        raise ctx.unsupported(f"weights have {filter_in_c} input channels, input has {g.in_c} "
                              "(grouped convolution is not supported)")
    quant = conv_quant(ctx, x, w, out, ctx.optional_input(2), out_c, 0, attrs.activation, wide, CONV_ROUNDING)
    depth = filter_h * filter_w * g.in_c
    check_scratch(ctx, (g.rows, depth), (g.rows, out_c), (depth, out_c))
    weights = quant.offset_weights(weights, 0)
    matrix = weights.reshape(out_c, depth).T
    dtype = exact_float_dtype(ctx, np.abs(matrix).sum(axis=0), x.dtype.np, quant.input_offset)
    return Conv2DParams(
        geometry=g, quant=quant, weights=weights, weights_float=np.ascontiguousarray(matrix.astype(dtype)),
        cols=np.zeros((g.rows, depth), dtype), acc=np.zeros((g.rows, out_c), dtype),
    )


def reference(p: Conv2DParams, inputs) -> list[np.ndarray]:
    # One filter tap at a time over the whole image: acc += x[taps in the image] . w[:, ky, kx, :].
    g = p.geometry
    x = inputs[0].astype(np.int64) + p.quant.input_offset
    w = p.weights.astype(np.int64)
    acc = np.zeros((g.batches, g.out_h, g.out_w, g.out_c), np.int64)
    for ky, kx, oy, iy, ox, ix in valid_taps(g):
        acc[:, oy[:, None], ox[None, :], :] += x[:, iy][:, :, ix] @ w[:, ky, kx, :].T
    return [requantize_reference(acc, p.quant, inputs[0].dtype)]


def kernel(p: Conv2DParams, inputs, outputs) -> None:
    g = p.geometry
    im2col(inputs[0], p.quant.input_offset, g.out_h, g.out_w, g.stride_h, g.stride_w, g.dilation_h, g.dilation_w,
           g.pad_h, g.pad_w, g.filter_h, g.filter_w, p.cols)
    np.matmul(p.cols, p.weights_float, out=p.acc)
    requantize_rows(p.acc, p.quant, outputs[0])


def bind(p: Conv2DParams, inputs, outputs) -> Callable[[], None]:
    """The kernel with its argument tuples built once: the run loop pays only for the three calls."""
    g, q = p.geometry, p.quant
    cols_args = (inputs[0], q.input_offset, g.out_h, g.out_w, g.stride_h, g.stride_w, g.dilation_h, g.dilation_w,
                 g.pad_h, g.pad_w, g.filter_h, g.filter_w, p.cols)
    requantize = requantize_rows_call(p.acc, q, outputs[0])
    cols, weights, acc, matmul = p.cols, p.weights_float, p.acc, np.matmul

    def call() -> None:
        im2col(*cols_args)
        matmul(cols, weights, out=acc)
        requantize()

    return call


def macs(ctx: OpContext) -> int:
    w = ctx.input(1)
    return ctx.output().num_elements * int(np.prod(w.shape[1:]))


def _same_shape(ctx: OpContext) -> bool:
    """Stride 1, no dilation, output shaped like the input (SAME padding, as many channels)."""
    attrs, x, out = ctx.attrs, ctx.input(0), ctx.output()
    return (attrs.stride_h == attrs.stride_w == 1 and attrs.dilation_h == attrs.dilation_w == 1
            and x.shape == out.shape and x.dtype is out.dtype)


def _pointwise(ctx: OpContext) -> bool:
    """1x1, stride 1: output pixel p needs only input pixel p."""
    attrs, x, w, out = ctx.attrs, ctx.input(0), ctx.input(1), ctx.output()
    return (w.shape[1] == w.shape[2] == 1 and attrs.stride_h == attrs.stride_w == 1
            and x.shape[:3] == out.shape[:3] and x.dtype is out.dtype)


def inplace(ctx: OpContext) -> tuple[tuple[int, int], ...]:
    """When the output may overwrite the dying input (the host kernel computes every output into its
    accumulator scratch before writing any, so it is safe as it is; device kernels do this):

    * same-shape convolutions, row by row (TinyEngine-style): output row y needs input rows up to
      y + filter_h - 1 - pad, so copies of the filter_h - 1 rows above the one being overwritten
      (inplace_scratch_bytes) are enough;
    * 1x1 stride-1 convolutions, pixel by pixel: from the first pixel when the output is not wider
      than the input, from the last when it is (output pixel p then lands on input pixels >= p, all
      consumed already). A wider output grows the buffer; the planner decides whether that pays.
    """
    return ((0, 0),) if _same_shape(ctx) or _pointwise(ctx) else ()


def inplace_scratch_bytes(ctx: OpContext) -> int:
    """What an in-place device kernel keeps aside: filter_h - 1 input rows, or one output pixel."""
    x, out = ctx.input(0), ctx.output()
    filter_h = ctx.input(1).shape[1]
    _, _, in_w, in_c = x.shape
    if filter_h == 1:
        # One output pixel of accumulators, or (same-shape 1xK) the last pad_w + 1 input pixels.
        filter_w = ctx.input(1).shape[2]
        return max(out.shape[-1] * 4, ((filter_w - 1) // 2 + 1) * in_c * x.dtype.np.itemsize)
    return (filter_h - 1) * in_w * in_c * x.dtype.np.itemsize


def c_emit(p: Conv2DParams, ctx: OpContext) -> CCall:
    """edg_conv_2d_s8 / _s16 (firmware/kernels/edg_conv_2d.h); the bias travels widened in params."""
    _check_inplace_scratch(p.geometry, ctx)
    return CCall(module="conv_2d", function=c_function("conv_2d", p.quant), params_type="edg_conv_2d_params_t",
                 fields=c_fields(p.geometry, p.quant, ctx), omit_inputs=(2,))


def _check_inplace_scratch(g: ConvGeometry, ctx: OpContext) -> None:
    """A same-shape 1xK convolution in place keeps the last pad_w + 1 input pixels: refuse to emit a
    kernel that the plan's inplace_scratch_bytes could leave short (the device would compute garbage)."""
    if g.filter_h != 1 or g.filter_w == 1 or not _same_shape(ctx):
        return
    needed = (g.pad_w + 1) * g.in_c * ctx.input(0).dtype.np.itemsize
    if needed > inplace_scratch_bytes(ctx):
        raise ctx.unsupported(f"in place, a 1x{g.filter_w} convolution needs {needed} bytes of scratch; "
                              f"inplace_scratch_bytes gives {inplace_scratch_bytes(ctx)}")


SPEC = OpSpec(name="CONV_2D", prepare=prepare, reference=reference, kernel=kernel, macs=macs, bind=bind,
              inplace=inplace, inplace_scratch_bytes=inplace_scratch_bytes, c_emit=c_emit, numerics=ALL_NUMERICS,
              c_numerics=ALL_NUMERICS)
