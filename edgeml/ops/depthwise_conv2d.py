"""DEPTHWISE_CONV_2D: int8 and 16x8, any depth multiplier, stride, dilation and padding.

Weights are (1, filter_h, filter_w, out_c); output channel oc reads input channel oc // depth_multiplier.
Kernel: numba, one output row at a time with (column, channel) innermost, integer accumulators
(int32 for int8 as in the references, int64 for 16x8) and the requantization folded in. With a
single input channel the op is an ordinary convolution and runs as im2col + BLAS instead.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import numpy as np
from numba import njit

from edgeml.codegen.c_values import CCall
from edgeml.ops.accumulate import requantize_channels, requantize_channels_int64
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
    require_rank4,
    valid_taps,
)


@dataclass(frozen=True)
class DepthwiseConv2DAttrs:
    padding: Padding = Padding.SAME
    stride_w: int = 0
    stride_h: int = 0
    depth_multiplier: int = 0
    activation: Activation = Activation.NONE
    dilation_w: int = 1
    dilation_h: int = 1


@dataclass(frozen=True, eq=False)
class DepthwiseConv2DParams:
    geometry: ConvGeometry
    quant: ConvQuant
    depth_multiplier: int
    weights: np.ndarray  # (filter_h, filter_w, out_c) int8, as stored
    weights_rows: np.ndarray  # (filter_h, filter_w, out_w * out_c): each tap tiled along a row, accumulator type
    acc: np.ndarray  # scratch: (out_h * out_w * out_c,) accumulators of one image (int32; int64 for 16x8)
    # One input channel (e.g. micro_speech): the op is a plain convolution, run as im2col + BLAS.
    as_conv: ConvAsMatmul | None


@dataclass(frozen=True, eq=False)
class ConvAsMatmul:
    weights_float: np.ndarray  # (filter_h * filter_w, out_c)
    cols: np.ndarray  # scratch: (rows, filter_h * filter_w)
    acc: np.ndarray  # scratch: (rows, out_c)


def single_channel_as_conv(ctx: OpContext, g: ConvGeometry, taps: np.ndarray, quant: ConvQuant,
                           input_dtype: np.dtype) -> ConvAsMatmul | None:
    """With one input channel every output channel reads the same window: im2col columns (ky, kx)."""
    if g.in_c != 1:
        return None
    matrix = taps.reshape(g.filter_h * g.filter_w, g.out_c).astype(np.int64)
    check_scratch(ctx, (g.rows, matrix.shape[0]), (g.rows, g.out_c))
    dtype = exact_float_dtype(ctx, np.abs(matrix).sum(axis=0), input_dtype, quant.input_offset)
    return ConvAsMatmul(weights_float=matrix.astype(dtype), cols=np.zeros((g.rows, matrix.shape[0]), dtype),
                        acc=np.zeros((g.rows, g.out_c), dtype))


def prepare(ctx: OpContext) -> DepthwiseConv2DParams:
    attrs: DepthwiseConv2DAttrs = ctx.attrs
    x, w, out = ctx.input(0), ctx.input(1), ctx.output()
    wide = activation_dtypes(ctx, x, w, out)
    weights = ctx.constant(1)
    one, filter_h, filter_w, out_c = require_rank4(ctx, w, "weights")
    if one != 1:
        raise ctx.unsupported(f"weights have shape {w.shape}; expected (1, H, W, channels)")
    g = forward_geometry(ctx, x, out, filter_h, filter_w, out_c, attrs.padding, attrs.stride_h, attrs.stride_w,
                         attrs.dilation_h, attrs.dilation_w)
    if out_c % g.in_c:
        raise ctx.unsupported(f"{out_c} output channels are not a multiple of {g.in_c} input channels")
    depth_multiplier = out_c // g.in_c
    # TFLite Micro (and TFLite for 16x8) index with the attribute, TFLite int8 with the shapes.
    if attrs.depth_multiplier != depth_multiplier:
        raise ctx.unsupported(f"depth_multiplier {attrs.depth_multiplier} does not match the shapes "
                              f"({g.in_c} -> {out_c} channels)")
    quant = conv_quant(ctx, x, w, out, ctx.optional_input(2), out_c, 3, attrs.activation, wide, CONV_ROUNDING)
    acc_dtype = np.int64 if wide else np.int32
    taps = quant.offset_weights(weights.reshape(filter_h, filter_w, out_c), 2)
    return DepthwiseConv2DParams(
        geometry=g, quant=quant, depth_multiplier=depth_multiplier, weights=taps,
        weights_rows=np.tile(taps.astype(acc_dtype), (1, 1, g.out_w)),
        acc=np.zeros(g.out_h * g.out_w * out_c, acc_dtype),
        as_conv=single_channel_as_conv(ctx, g, taps, quant, x.dtype.np),
    )


def reference(p: DepthwiseConv2DParams, inputs) -> list[np.ndarray]:
    g = p.geometry
    x = inputs[0].astype(np.int64) + p.quant.input_offset
    # Input channel ic feeds output channels ic * m .. ic * m + m - 1.
    x = np.repeat(x, p.depth_multiplier, axis=3)
    w = p.weights.astype(np.int64)
    acc = np.zeros((g.batches, g.out_h, g.out_w, g.out_c), np.int64)
    for ky, kx, oy, iy, ox, ix in valid_taps(g):
        acc[:, oy[:, None], ox[None, :], :] += x[:, iy][:, :, ix] * w[ky, kx]
    return [requantize_reference(acc, p.quant, inputs[0].dtype)]


@njit(cache=True)
def depthwise(x, w_rows, input_offset, depth_multiplier, stride_h, stride_w, dilation_h, dilation_w, pad_h, pad_w,
              bias, multiplier, shift, output_offset, lo, hi, rounding, wide, acc, out):
    """x is (batches, in_h, in_w, in_c), out (batches, out_h, out_w, out_c); acc holds one image.

    Accumulates one output row at a time, then requantizes the whole image in one vectorised loop.

    w_rows[ky, kx] holds the tap's out_c weights tiled out_w times, so that with stride 1 and
    depth multiplier 1 a tap is one long contiguous multiply-add over the whole row.
    """
    # Flat C-contiguous arrays indexed with unsigned integers (no negative-index wraparound test),
    # so that LLVM vectorises the inner loops.
    batches, in_h, in_w, in_c = x.shape
    _, out_h, out_w, out_c = out.shape
    filter_h, filter_w, out_row = w_rows.shape
    flat_x = x.reshape(-1)
    flat_w = w_rows.reshape(-1)
    flat_out = out.reshape(-1)
    for b in range(batches):
        acc[:] = 0
        for oy in range(out_h):
            row_acc = acc[oy * out_row:(oy + 1) * out_row]
            for ky in range(filter_h):
                iy = oy * stride_h - pad_h + ky * dilation_h
                if iy < 0 or iy >= in_h:
                    continue
                x_row = (b * in_h + iy) * in_w * in_c
                for kx in range(filter_w):
                    w_tap = (ky * filter_w + kx) * out_row
                    offset_x = kx * dilation_w - pad_w  # ix = ox * stride_w + offset_x
                    ox_lo = max(0, (-offset_x + stride_w - 1) // stride_w)
                    ox_hi = min(out_w, (in_w - 1 - offset_x) // stride_w + 1)
                    if ox_lo >= ox_hi:
                        continue
                    if depth_multiplier == 1 and stride_w == 1:
                        start = ox_lo * out_c
                        src = x_row + (ox_lo + offset_x) * in_c
                        for j in range((ox_hi - ox_lo) * out_c):
                            row_acc[np.uintp(start + j)] += flat_w[np.uintp(w_tap + start + j)] * (
                                flat_x[np.uintp(src + j)] + input_offset)
                        continue
                    for ox in range(ox_lo, ox_hi):
                        src = x_row + (ox * stride_w + offset_x) * in_c
                        dst = ox * out_c
                        if depth_multiplier == 1:
                            for c in range(out_c):
                                row_acc[np.uintp(dst + c)] += flat_w[np.uintp(w_tap + c)] * (
                                    flat_x[np.uintp(src + c)] + input_offset)
                        else:
                            for ic in range(in_c):
                                value = flat_x[np.uintp(src + ic)] + input_offset
                                base = ic * depth_multiplier
                                for m in range(depth_multiplier):
                                    row_acc[np.uintp(dst + base + m)] += flat_w[np.uintp(w_tap + base + m)] * value
        # Requantize the whole image at once: one long vectorised loop over (pixel, channel).
        image = out_h * out_row
        image_acc = acc.reshape((out_h * out_w, out_c))
        image_out = flat_out[b * image:(b + 1) * image].reshape((out_h * out_w, out_c))
        if wide:
            requantize_channels_int64(image_acc, bias, multiplier, shift, output_offset, lo, hi, image_out)
        else:
            requantize_channels(image_acc, bias, multiplier, shift, output_offset, lo, hi, rounding, image_out)


def kernel(p: DepthwiseConv2DParams, inputs, outputs) -> None:
    g, q = p.geometry, p.quant
    if not q.exact_host_kernel:
        # onnxruntime's requantization: the numpy form (ONNX models only; not a hot path yet).
        outputs[0][...] = reference(p, inputs)[0]
        return
    if p.as_conv is not None:
        m = p.as_conv
        im2col(inputs[0], q.input_offset, g.out_h, g.out_w, g.stride_h, g.stride_w, g.dilation_h, g.dilation_w,
               g.pad_h, g.pad_w, g.filter_h, g.filter_w, m.cols)
        np.matmul(m.cols, m.weights_float, out=m.acc)
        requantize_rows(m.acc, q, outputs[0])
        return
    depthwise(inputs[0], p.weights_rows, q.input_offset, p.depth_multiplier, g.stride_h, g.stride_w, g.dilation_h,
              g.dilation_w, g.pad_h, g.pad_w, q.bias, q.multiplier, q.shift, q.output_offset, q.lo, q.hi,
              int(q.rounding), q.wide, p.acc, outputs[0])


def bind(p: DepthwiseConv2DParams, inputs, outputs) -> Callable[[], None]:
    """The kernel with its arguments resolved once."""
    g, q = p.geometry, p.quant
    if p.as_conv is not None or not q.exact_host_kernel:
        return partial(kernel, p, inputs, outputs)
    return partial(depthwise, inputs[0], p.weights_rows, q.input_offset, p.depth_multiplier, g.stride_h, g.stride_w,
                   g.dilation_h, g.dilation_w, g.pad_h, g.pad_w, q.bias, q.multiplier, q.shift, q.output_offset, q.lo,
                   q.hi, int(q.rounding), q.wide, p.acc, outputs[0])


def macs(ctx: OpContext) -> int:
    w = ctx.input(1)
    return ctx.output().num_elements * int(np.prod(w.shape[1:3]))


def inplace(ctx: OpContext) -> tuple[tuple[int, int], ...]:
    """In place (TinyEngine-style) with depth multiplier 1: channel c's outputs depend only on channel
    c's inputs, so a device kernel computes one channel into a small scratch and writes it back, and
    an image's outputs never reach past its own input. The host kernel accumulates every output
    before writing any, which is safe as it is."""
    x, out = ctx.input(0), ctx.output()
    return ((0, 0),) if x.shape[-1] == out.shape[-1] and out.nbytes <= x.nbytes and x.dtype is out.dtype else ()


def inplace_scratch_bytes(ctx: OpContext) -> int:
    """One output channel, kept while it is computed (device kernels)."""
    out = ctx.output()
    return out.shape[1] * out.shape[2] * 4


def c_emit(p: DepthwiseConv2DParams, ctx: OpContext) -> CCall:
    """edg_depthwise_conv_2d_s8 / _s16 (firmware/kernels/edg_depthwise_conv_2d.h)."""
    return CCall(module="depthwise_conv_2d", function=c_function("depthwise_conv_2d", p.quant),
                 params_type="edg_depthwise_conv_2d_params_t",
                 fields={**c_fields(p.geometry, p.quant, ctx), "depth_multiplier": p.depth_multiplier},
                 omit_inputs=(2,))


SPEC = OpSpec(name="DEPTHWISE_CONV_2D", prepare=prepare, reference=reference, kernel=kernel, macs=macs,
              bind=bind, inplace=inplace, inplace_scratch_bytes=inplace_scratch_bytes, c_emit=c_emit,
              numerics=ALL_NUMERICS, c_numerics=ALL_NUMERICS)
