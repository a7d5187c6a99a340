"""TRANSPOSE_CONV: 16x8 (int64 or no bias) and int8, SAME/VALID padding, any stride.

Inputs as TFLite orders them: 0 the int32 output shape, 1 the weights (out_c, H, W, in_c), 2 the
activations, 3 an optional bias. The output shape may be a constant or a model input; edgeml runs
with the declared static output shape and checks the given shape against it.

Kernel: one BLAS matmul gives every input pixel's contribution to its filter_h x filter_w output
window, then a numba col2im scatters them into the output accumulators; the float type is chosen
so that every sum is exact (see exact_float_dtype).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from edgeml.codegen.c_values import CCall
from edgeml.ir.dtypes import DType
from edgeml.ops.base import OpContext, OpSpec
from edgeml.ops.common import Activation, Padding, compute_padding, require_dtype
from edgeml.ops.conv_common import (
    CONV_ROUNDING,
    ConvGeometry,
    ConvQuant,
    activation_dtypes,
    c_fields,
    c_function,
    check_scratch,
    check_window,
    conv_quant,
    exact_float_dtype,
    im2col,
    requantize_reference,
    requantize_rows,
    require_rank4,
    window_out_size,
)


@dataclass(frozen=True)
class TransposeConvAttrs:
    padding: Padding = Padding.SAME
    stride_w: int = 0
    stride_h: int = 0
    activation: Activation = Activation.NONE


@dataclass(frozen=True, eq=False)
class TransposeConvParams:
    # in_* is the op's (small) input, out_* its (large) output; pad_* the leading output crop.
    geometry: ConvGeometry
    quant: ConvQuant
    output_shape: np.ndarray  # int32 (4,): what input 0 must hold
    weights: np.ndarray  # (out_c, filter_h, filter_w, in_c) int8, as stored
    weights_float: np.ndarray  # (in_c, filter_h * filter_w * out_c), float32 or float64 (exact_float_dtype)
    cols: np.ndarray  # scratch: (input pixels, in_c), same float type
    contrib: np.ndarray  # scratch: (input pixels, filter_h * filter_w * out_c), same float type
    acc: np.ndarray  # scratch: (output pixels, out_c), same float type


def prepare(ctx: OpContext) -> TransposeConvParams:
    attrs: TransposeConvAttrs = ctx.attrs
    shape_tensor, w, x, out = ctx.input(0), ctx.input(1), ctx.input(2), ctx.output()
    wide = activation_dtypes(ctx, x, w, out)
    require_dtype(ctx, shape_tensor, "output shape", DType.INT32)
    if shape_tensor.num_elements != 4:
        raise ctx.unsupported(f"output shape tensor has {shape_tensor.num_elements} elements; expected 4")
    weights = ctx.constant(1)
    out_c, filter_h, filter_w, filter_in_c = require_rank4(ctx, w, "weights")
    g = transpose_geometry(ctx, x, out, filter_h, filter_w, out_c, filter_in_c, attrs)
    output_shape = np.array(out.shape, np.int32)
    if shape_tensor.data is not None and not np.array_equal(shape_tensor.data.reshape(-1), output_shape):
        raise ctx.unsupported(f"output shape {shape_tensor.data.tolist()} differs from the declared {out.shape}")
    quant = conv_quant(ctx, x, w, out, ctx.optional_input(3), out_c, 0, attrs.activation, wide, CONV_ROUNDING)
    in_rows = g.batches * g.in_h * g.in_w
    window = filter_h * filter_w * out_c
    check_scratch(ctx, (in_rows, g.in_c), (in_rows, window), (g.rows, out_c), (g.in_c, window))
    matrix = weights.transpose(3, 1, 2, 0).reshape(g.in_c, window).astype(np.int64)
    # One output sums up to ceil(filter / stride) contributions per axis: bound them all together.
    overlap = -(-filter_h // g.stride_h) * -(-filter_w // g.stride_w)
    dtype = exact_float_dtype(ctx, np.abs(matrix).sum(axis=0) * overlap, x.dtype.np, quant.input_offset)
    return TransposeConvParams(
        geometry=g, quant=quant, output_shape=output_shape, weights=weights,
        weights_float=np.ascontiguousarray(matrix.astype(dtype)), cols=np.zeros((in_rows, g.in_c), dtype),
        contrib=np.zeros((in_rows, window), dtype), acc=np.zeros((g.rows, out_c), dtype),
    )


def transpose_geometry(ctx: OpContext, x, out, filter_h: int, filter_w: int, out_c: int, filter_in_c: int,
                       attrs: TransposeConvAttrs) -> ConvGeometry:
    """TFLite's checks: the output, convolved back with the same window, must give the input's size."""
    check_window(ctx, attrs.stride_h, attrs.stride_w)
    batches, in_h, in_w, in_c = require_rank4(ctx, x, "input")
    out_b, out_h, out_w, declared_c = require_rank4(ctx, out, "output")
    if (out_b, declared_c, filter_in_c) != (batches, out_c, in_c):
        raise ctx.unsupported(f"input {x.shape}, weights {(out_c, filter_h, filter_w, filter_in_c)} and "
                              f"output {out.shape} do not agree")
    back_h = window_out_size(attrs.padding, out_h, filter_h, attrs.stride_h, 1)
    back_w = window_out_size(attrs.padding, out_w, filter_w, attrs.stride_w, 1)
    if (back_h, back_w) != (in_h, in_w):
        raise ctx.unsupported(f"output {out.shape} does not convolve back to the input's {in_h}x{in_w}")
    return ConvGeometry(
        batches=batches, in_h=in_h, in_w=in_w, in_c=in_c, out_h=out_h, out_w=out_w, out_c=out_c,
        filter_h=filter_h, filter_w=filter_w, stride_h=attrs.stride_h, stride_w=attrs.stride_w,
        dilation_h=1, dilation_w=1,
        pad_h=compute_padding(attrs.stride_h, 1, out_h, filter_h, in_h, attrs.padding),
        pad_w=compute_padding(attrs.stride_w, 1, out_w, filter_w, in_w, attrs.padding),
    )


def reference(p: TransposeConvParams, inputs) -> list[np.ndarray]:
    # Scatter, one filter tap at a time: input pixel (iy, ix) adds to output (iy*s - pad + ky, ...).
    g = p.geometry
    x = inputs[2].astype(np.int64) + p.quant.input_offset
    w = p.weights.astype(np.int64)
    acc = np.zeros((g.batches, g.out_h, g.out_w, g.out_c), np.int64)
    iy_all, ix_all = np.arange(g.in_h), np.arange(g.in_w)
    for ky in range(g.filter_h):
        oy = iy_all * g.stride_h - g.pad_h + ky
        keep_y = (oy >= 0) & (oy < g.out_h)
        for kx in range(g.filter_w):
            ox = ix_all * g.stride_w - g.pad_w + kx
            keep_x = (ox >= 0) & (ox < g.out_w)
            patch = x[:, iy_all[keep_y]][:, :, ix_all[keep_x]]
            acc[:, oy[keep_y][:, None], ox[keep_x][None, :], :] += patch @ w[:, ky, kx, :].T
    return [requantize_reference(acc, p.quant, inputs[2].dtype)]


@njit(cache=True)
def col2im(contrib, batches, in_h, in_w, out_h, out_w, out_c, stride_h, stride_w, pad_h, pad_w, filter_h,
           filter_w, acc):
    """acc[(b, oy, ox), c] = sum of contrib[(b, iy, ix), (ky, kx, c)] over taps landing on (oy, ox)."""
    acc[:] = 0.0
    row = 0
    for b in range(batches):
        for iy in range(in_h):
            for ix in range(in_w):
                col = 0
                for ky in range(filter_h):
                    oy = iy * stride_h - pad_h + ky
                    for kx in range(filter_w):
                        ox = ix * stride_w - pad_w + kx
                        if 0 <= oy < out_h and 0 <= ox < out_w:
                            target = (b * out_h + oy) * out_w + ox
                            for c in range(out_c):
                                acc[target, c] += contrib[row, col + c]
                        col += out_c
                row += 1


def kernel(p: TransposeConvParams, inputs, outputs) -> None:
    if not np.array_equal(inputs[0].reshape(-1), p.output_shape):
        raise ValueError(f"output shape {inputs[0].tolist()} differs from the model's {p.output_shape.tolist()}")
    g = p.geometry
    im2col(inputs[2], p.quant.input_offset, g.in_h, g.in_w, 1, 1, 1, 1, 0, 0, 1, 1, p.cols)
    np.matmul(p.cols, p.weights_float, out=p.contrib)
    col2im(p.contrib, g.batches, g.in_h, g.in_w, g.out_h, g.out_w, g.out_c, g.stride_h, g.stride_w, g.pad_h,
           g.pad_w, g.filter_h, g.filter_w, p.acc)
    requantize_rows(p.acc, p.quant, outputs[0])


def macs(ctx: OpContext) -> int:
    w = ctx.input(1)
    return ctx.input(2).num_elements * int(np.prod(w.shape[:3]))


def scratch_bytes(ctx: OpContext) -> int:
    # TFLite Micro's accumulator buffer: one int32 (int8) or int64 (16x8) per output element.
    return ctx.output().num_elements * (8 if ctx.input(2).dtype is DType.INT16 else 4)


def c_emit(p: TransposeConvParams, ctx: OpContext) -> CCall:
    """edg_transpose_conv_s8 / _s16 (firmware/kernels/edg_transpose_conv.h). The output shape input is
    not passed: the kernel runs with the declared static shape (the host checks the given one)."""
    return CCall(module="transpose_conv", function=c_function("transpose_conv", p.quant),
                 params_type="edg_transpose_conv_params_t", fields=c_fields(p.geometry, p.quant, ctx, dilation=False),
                 omit_inputs=(0, 3))


SPEC = OpSpec(name="TRANSPOSE_CONV", prepare=prepare, reference=reference, kernel=kernel, macs=macs,
              scratch_bytes=scratch_bytes, shape_operand=0, c_emit=c_emit)
