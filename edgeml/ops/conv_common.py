"""What CONV_2D, DEPTHWISE_CONV_2D and TRANSPOSE_CONV share: geometry, quantization, requantization.

TFLite and TFLite Micro prepare all three the same way (PopulateConvolutionQuantizationParams):
one multiplier per output channel, double(s_in) * double(s_w[c]) / double(s_out), even when the
weights are quantized per tensor. int8 ops accumulate in int32 and requantize with gemmlowp's double
rounding in *both* references (see CONV_ROUNDING); 16x8 ops (int16 activations, int8 weights, int64
bias) accumulate in int64 and requantize with the reduced 16-bit multiplier, identical in both.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial

import numpy as np
from numba import njit

from edgeml.codegen.c_values import CArray, CValue
from edgeml.ir.dtypes import DType
from edgeml.ir.graph import Tensor
from edgeml.ops.accumulate import requantize_channels, requantize_channels_int64
from edgeml.ops.base import OpContext
from edgeml.ops.common import (
    Activation,
    Padding,
    activation_range,
    compute_padding,
    dtype_limits,
    require_dtype,
    require_quant,
)
from edgeml.quant.requant import (
    INT32_MAX,
    INT32_MIN,
    Rounding,
    float32_bits,
    multiply_by_quantized_multiplier_array,
    multiply_by_quantized_multiplier_int64_array,
    onnx_output_scale,
    quantize_multipliers,
    requantize_channels_float32,
    requantize_float32_array,
)

# ai-edge-litert's int8 CONV_2D, DEPTHWISE_CONV_2D and TRANSPOSE_CONV round twice
# (SaturatingRoundingDoublingHighMul, then RoundingDivideByPOT), like TFLite Micro, although its
# FULLY_CONNECTED rounds once: measured op by op against BUILTIN_REF on kws_ref_model, vww_96_int8
# and the one-op models of tests/test_ops_conv.py (single rounding is off by one on ~1% of outputs,
# double rounding matches every output).
CONV_ROUNDING = Rounding.DOUBLE

# Scratch buffers larger than this mean a corrupted or absurd model, not one for a microcontroller.
MAX_SCRATCH_BYTES = 1 << 30
MAX_WINDOW = 1 << 15  # strides and dilations, as TFLite bounds them (INT16_MAX)


@dataclass(frozen=True)
class ConvGeometry:
    """NHWC shapes of one windowed op plus its stride, dilation and leading padding."""

    batches: int
    in_h: int
    in_w: int
    in_c: int
    out_h: int
    out_w: int
    out_c: int
    filter_h: int
    filter_w: int
    stride_h: int
    stride_w: int
    dilation_h: int
    dilation_w: int
    pad_h: int
    pad_w: int

    @property
    def rows(self) -> int:
        """Output pixels: the rows of the im2col matrix."""
        return self.batches * self.out_h * self.out_w


@dataclass(frozen=True, eq=False)
class ConvQuant:
    """Everything that turns an exact accumulator into an output value, per output channel."""

    input_offset: int  # -input zero point (always 0 for 16x8)
    output_offset: int
    multiplier: np.ndarray  # (out_c,) int64
    shift: np.ndarray  # (out_c,) int64
    lo: int
    hi: int
    rounding: Rounding
    wide: bool  # 16x8: int64 accumulators, reduced-multiplier requantization
    bias: np.ndarray  # (out_c,) int64, or empty when the op has none
    # onnxruntime numerics: (out_c,) float32 output scales (multiplier/shift unused), and the
    # weights' zero points (ONNX allows them, e.g. uint8 weights), subtracted from the weights.
    float_scale: np.ndarray | None = None
    weight_zero_point: np.ndarray | None = None
    # ConvInteger / MatMulInteger: the int32 sums themselves are the output.
    accumulate_only: bool = False

    def c_requant(self, ctx: OpContext) -> tuple[np.ndarray, np.ndarray, int]:
        """(multiplier, shift, rounding) for the C kernels: onnxruntime's float32 scales travel as their
        bits with EDG_ROUND_FLOAT32. Forms the C kernels do not compute are refused."""
        if self.accumulate_only:
            raise ctx.unsupported("int32 accumulator outputs (ConvInteger, MatMulInteger) have no C kernel yet")
        if self.weight_zero_point is not None:
            raise ctx.unsupported("weights with non-zero zero points have no C kernel yet")
        if self.float_scale is not None:
            return float32_bits(self.float_scale), np.zeros(self.float_scale.size, np.int64), int(Rounding.FLOAT32)
        return self.multiplier, self.shift, int(self.rounding)

    @property
    def exact_host_kernel(self) -> bool:
        """True when the fast kernels' integer requantization applies (not onnxruntime's forms)."""
        return self.float_scale is None and not self.accumulate_only

    def offset_weights(self, weights: np.ndarray, channel_axis: int) -> np.ndarray:
        """int64 weights minus their zero points along the output-channel axis."""
        values = weights.astype(np.int64)
        if self.weight_zero_point is None:
            return values
        shape = [1] * values.ndim
        shape[channel_axis] = -1
        return values - self.weight_zero_point.reshape(shape)


def window_out_size(padding: Padding, image: int, filter_size: int, stride: int, dilation: int) -> int:
    """TFLite's ComputeOutSize."""
    effective = (filter_size - 1) * dilation + 1
    if padding is Padding.SAME:
        return (image + stride - 1) // stride
    return (image + stride - effective) // stride


def check_window(ctx: OpContext, stride_h: int, stride_w: int, dilation_h: int = 1, dilation_w: int = 1) -> None:
    for name, value in (("stride_h", stride_h), ("stride_w", stride_w),
                        ("dilation_h", dilation_h), ("dilation_w", dilation_w)):
        if not 0 < value <= MAX_WINDOW:
            raise ctx.unsupported(f"{name} {value} is not in [1, {MAX_WINDOW}]")


def require_rank4(ctx: OpContext, tensor: Tensor, role: str) -> tuple[int, int, int, int]:
    if len(tensor.shape) != 4 or min(tensor.shape) <= 0:
        raise ctx.unsupported(f"{role} tensor {tensor.name} has shape {tensor.shape}; expected a non-empty 4-D shape")
    return tensor.shape  # type: ignore[return-value]


def forward_geometry(ctx: OpContext, x: Tensor, out: Tensor, filter_h: int, filter_w: int, out_c: int,
                     padding: Padding, stride_h: int, stride_w: int, dilation_h: int,
                     dilation_w: int) -> ConvGeometry:
    """Geometry of a convolution (regular or depthwise); the declared output shape must be TFLite's."""
    check_window(ctx, stride_h, stride_w, dilation_h, dilation_w)
    batches, in_h, in_w, in_c = require_rank4(ctx, x, "input")
    require_rank4(ctx, out, "output")
    out_h = window_out_size(padding, in_h, filter_h, stride_h, dilation_h)
    out_w = window_out_size(padding, in_w, filter_w, stride_w, dilation_w)
    expected = (batches, out_h, out_w, out_c)
    if tuple(out.shape) != expected:
        raise ctx.unsupported(f"output shape {out.shape} does not match the computed {expected}")
    return ConvGeometry(
        batches=batches, in_h=in_h, in_w=in_w, in_c=in_c, out_h=out_h, out_w=out_w, out_c=out_c,
        filter_h=filter_h, filter_w=filter_w, stride_h=stride_h, stride_w=stride_w,
        dilation_h=dilation_h, dilation_w=dilation_w,
        pad_h=compute_padding(stride_h, dilation_h, in_h, filter_h, out_h, padding),
        pad_w=compute_padding(stride_w, dilation_w, in_w, filter_w, out_w, padding),
    )


def activation_dtypes(ctx: OpContext, x: Tensor, w: Tensor, out: Tensor) -> bool:
    """int8 x int8 -> int8, or 16x8 (int16 x int8 -> int16). Returns True for 16x8. With onnxruntime
    numerics an int32 output is the raw accumulator (ConvInteger, MatMulInteger)."""
    require_dtype(ctx, x, "input", DType.INT8, DType.INT16)
    require_dtype(ctx, w, "weights", DType.INT8)
    if ctx.numerics.is_onnx and x.dtype is DType.INT8:
        require_dtype(ctx, out, "output", DType.INT8, DType.INT32)
    else:
        require_dtype(ctx, out, "output", x.dtype)
    return x.dtype is DType.INT16


def conv_quant(ctx: OpContext, x: Tensor, w: Tensor, out: Tensor, bias: Tensor | None, out_c: int,
               channel_axis: int, activation: Activation, wide: bool, rounding: Rounding) -> ConvQuant:
    """Per-channel multipliers, clamp bounds, offsets and bias, validated as the references do."""
    if out.dtype is DType.INT32:
        return _accumulator_quant(ctx, x, w, bias, out_c)
    in_q, w_q, out_q = (require_quant(ctx, x, "input"), require_quant(ctx, w, "weights"),
                        require_quant(ctx, out, "output"))
    scales = w_q.scale.reshape(-1).astype(np.float64)
    if scales.size not in (1, out_c):
        raise ctx.unsupported(f"weights have {scales.size} scales for {out_c} output channels")
    if scales.size > 1 and w_q.axis != channel_axis:
        raise ctx.unsupported(f"weights are quantized along axis {w_q.axis}; expected axis {channel_axis}")
    in_zp, out_zp = in_q.single_zero_point, out_q.single_zero_point
    if ctx.numerics.is_onnx:
        return _onnx_conv_quant(ctx, w_q, out, bias, out_c, activation, in_q.single_scale, out_q.single_scale,
                                in_zp, out_zp, wide)
    if np.any(w_q.zero_point != 0):
        raise ctx.unsupported("weights have a non-zero zero point")
    if wide and (in_zp or out_zp):
        raise ctx.unsupported("16x8 needs zero points of 0 on input and output")
    scales = np.broadcast_to(scales, (out_c,))
    real = float(np.float32(in_q.single_scale)) * scales / float(np.float32(out_q.single_scale))
    multiplier, shift = quantize_multipliers(real, rounding)
    lo, hi = activation_range(ctx, activation, out)
    return ConvQuant(
        input_offset=-in_zp, output_offset=out_zp, multiplier=multiplier, shift=shift, lo=lo, hi=hi,
        rounding=rounding, wide=wide, bias=bias_vector(ctx, bias, out_c, wide),
    )


def _onnx_conv_quant(ctx: OpContext, w_q, out: Tensor, bias: Tensor | None, out_c: int, activation: Activation,
                     in_scale: float, out_scale: float, in_zp: int, out_zp: int, wide: bool) -> ConvQuant:
    """QLinearConv / QLinearMatMul as onnxruntime computes them: exact int32 sums of
    (x - x_zp) * (w - w_zp[c]) plus the bias, times float32((s_x * s_w[c]) / s_y), round half even."""
    if wide:
        raise ctx.unsupported("onnxruntime numerics cover 8-bit activations only")
    zero_points = np.broadcast_to(w_q.zero_point.reshape(-1).astype(np.int64), (out_c,)).copy()
    lo, hi = onnx_activation_range(ctx, activation, out)
    return ConvQuant(
        input_offset=-in_zp, output_offset=out_zp, multiplier=np.zeros(out_c, np.int64),
        shift=np.zeros(out_c, np.int64), lo=lo, hi=hi, rounding=Rounding.SINGLE, wide=False,
        bias=bias_vector(ctx, bias, out_c, False),
        float_scale=onnx_output_scale(in_scale, np.broadcast_to(w_q.scale.reshape(-1), (out_c,)), out_scale),
        weight_zero_point=zero_points if np.any(zero_points) else None,
    )


def _accumulator_quant(ctx: OpContext, x: Tensor, w: Tensor, bias: Tensor | None, out_c: int) -> ConvQuant:
    """ConvInteger / MatMulInteger: int32 sums of (x - x_zp) * (w - w_zp[c]), wrapping like int32."""
    x_zp = x.quant.single_zero_point if x.quant is not None else 0
    w_zp = (np.broadcast_to(w.quant.zero_point.reshape(-1).astype(np.int64), (out_c,)).copy()
            if w.quant is not None else np.zeros(out_c, np.int64))
    empty = np.zeros(out_c, np.int64)
    return ConvQuant(input_offset=-x_zp, output_offset=0, multiplier=empty, shift=empty, lo=INT32_MIN, hi=INT32_MAX,
                     rounding=Rounding.SINGLE, wide=False, bias=bias_vector(ctx, bias, out_c, False),
                     weight_zero_point=w_zp if np.any(w_zp) else None, accumulate_only=True)


def onnx_activation_range(ctx: OpContext, activation: Activation, out: Tensor) -> tuple[int, int]:
    """A Relu between an ONNX op and its QuantizeLinear clamps at the zero point; nothing else fuses."""
    qmin, qmax = dtype_limits(out.dtype)
    if activation is Activation.NONE:
        return qmin, qmax
    if activation is Activation.RELU:
        return max(qmin, require_quant(ctx, out, "output").single_zero_point), qmax
    raise ctx.unsupported(f"fused activation {activation.name} has no onnxruntime form")


def bias_vector(ctx: OpContext, bias: Tensor | None, out_c: int, wide: bool) -> np.ndarray:
    if bias is None:
        return np.zeros(0, np.int64)
    expected = DType.INT64 if wide else DType.INT32
    require_dtype(ctx, bias, "bias", expected)
    if bias.data is None:
        raise ctx.unsupported(f"bias {bias.name} must be a constant")
    if bias.num_elements != out_c:
        raise ctx.unsupported(f"bias has {bias.num_elements} elements for {out_c} output channels")
    return bias.data.astype(np.int64).reshape(-1)


def exact_float_dtype(ctx: OpContext, weight_abs_sums: np.ndarray, input_dtype: np.dtype,
                      input_offset: int) -> type[np.floating]:
    """The float type in which BLAS sums of (x + input_offset) * w are exact integers.

    weight_abs_sums[n] = sum over k of |w[k, n]|. Every partial sum of output n, in any order, is
    bounded by weight_abs_sums[n] * max|x + input_offset|: float32 when that fits its 24-bit
    mantissa (twice the speed of float64), else float64 (53 bits).
    """
    info = np.iinfo(input_dtype)
    max_x = max(abs(int(info.min) + input_offset), abs(int(info.max) + input_offset))
    bound = int(weight_abs_sums.max(initial=0)) * max_x
    if bound <= 1 << 24:
        return np.float32
    if bound <= 1 << 53:
        return np.float64
    raise ctx.unsupported("accumulators could exceed 2^53")


def check_scratch(ctx: OpContext, *shapes: tuple[int, ...]) -> None:
    total = sum(int(np.prod(s, dtype=np.int64)) * 8 for s in shapes)
    if total > MAX_SCRATCH_BYTES:
        raise ctx.unsupported(f"needs {total} bytes of scratch memory")


def c_fields(g: ConvGeometry, q: ConvQuant, ctx: OpContext, dilation: bool = True) -> dict[str, CValue]:
    """The params fields the three C kernels share (firmware/kernels/edg_{conv_2d,depthwise_conv_2d,
    transpose_conv}.h): geometry, offsets, clamp range, per-channel multipliers and the bias, widened
    to the accumulator type (bias32 for int8, bias64 for 16x8) and omitted when the op has none."""
    multiplier, shift, rounding = q.c_requant(ctx)
    fields: dict[str, CValue] = {
        "batches": g.batches, "in_h": g.in_h, "in_w": g.in_w, "in_c": g.in_c,
        "out_h": g.out_h, "out_w": g.out_w, "out_c": g.out_c, "filter_h": g.filter_h, "filter_w": g.filter_w,
        "stride_h": g.stride_h, "stride_w": g.stride_w,
        **({"dilation_h": g.dilation_h, "dilation_w": g.dilation_w} if dilation else {}),
        "pad_h": g.pad_h, "pad_w": g.pad_w,
        "input_offset": q.input_offset, "output_offset": q.output_offset, "lo": q.lo, "hi": q.hi,
        "rounding": rounding, "multiplier": CArray(multiplier), "shift": CArray(shift),
    }
    if q.bias.size:
        fields["bias64" if q.wide else "bias32"] = CArray(q.bias, np.int64 if q.wide else np.int32)
    return fields


def c_function(module: str, q: ConvQuant) -> str:
    """edg_<module>_s8, or _s16 for 16x8."""
    return f"edg_{module}_{'s16' if q.wide else 's8'}"


# ---------------------------------------------------------------------------------------------
# Slow numpy pieces used by the references.


def valid_taps(g: ConvGeometry) -> Iterator[tuple[int, int, np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """For each filter tap (ky, kx): the output rows/cols it reaches and the input rows/cols it reads."""
    oy = np.arange(g.out_h)
    ox = np.arange(g.out_w)
    for ky in range(g.filter_h):
        iy = oy * g.stride_h - g.pad_h + ky * g.dilation_h
        keep_y = (iy >= 0) & (iy < g.in_h)
        for kx in range(g.filter_w):
            ix = ox * g.stride_w - g.pad_w + kx * g.dilation_w
            keep_x = (ix >= 0) & (ix < g.in_w)
            yield ky, kx, oy[keep_y], iy[keep_y], ox[keep_x], ix[keep_x]


def requantize_reference(acc: np.ndarray, q: ConvQuant, dtype: np.dtype) -> np.ndarray:
    """acc: (..., out_c) exact int64 sums, bias not yet added."""
    if q.bias.size:
        acc = acc + q.bias
    if q.accumulate_only:
        return acc.astype(np.int32)
    if q.float_scale is not None:
        return requantize_float32_array(acc, q.float_scale, q.output_offset, q.lo, q.hi).astype(dtype)
    if q.wide:
        scaled = multiply_by_quantized_multiplier_int64_array(acc, q.multiplier, q.shift)
    else:
        scaled = multiply_by_quantized_multiplier_array(acc, q.multiplier, q.shift, q.rounding)
    return np.clip(scaled + q.output_offset, q.lo, q.hi).astype(dtype)


# ---------------------------------------------------------------------------------------------
# Fast pieces used by the kernels.


def requantize_rows(acc: np.ndarray, q: ConvQuant, out: np.ndarray) -> None:
    """acc: (rows, out_c) exact sums (float64 or int), out: any array of rows * out_c elements."""
    out2d = out.reshape(acc.shape)
    if q.accumulate_only:
        total = acc.astype(np.int64) + (q.bias if q.bias.size else 0)
        out2d[...] = total.astype(np.int32)
    elif q.float_scale is not None:
        requantize_channels_float32(acc, q.bias, q.float_scale, q.output_offset, q.lo, q.hi, out2d)
    elif q.wide:
        requantize_channels_int64(acc, q.bias, q.multiplier, q.shift, q.output_offset, q.lo, q.hi, out2d)
    else:
        requantize_channels(acc, q.bias, q.multiplier, q.shift, q.output_offset, q.lo, q.hi, int(q.rounding),
                            out2d)


def requantize_rows_call(acc: np.ndarray, q: ConvQuant, out: np.ndarray) -> Callable[[], None]:
    """requantize_rows(acc, q, out) with its arguments resolved once."""
    out2d = out.reshape(acc.shape)
    if q.accumulate_only:
        return partial(requantize_rows, acc, q, out)
    if q.float_scale is not None:
        return partial(requantize_channels_float32, acc, q.bias, q.float_scale, q.output_offset, q.lo, q.hi, out2d)
    if q.wide:
        return partial(requantize_channels_int64, acc, q.bias, q.multiplier, q.shift, q.output_offset, q.lo, q.hi,
                       out2d)
    return partial(requantize_channels, acc, q.bias, q.multiplier, q.shift, q.output_offset, q.lo, q.hi,
                   int(q.rounding), out2d)


@njit(cache=True)
def im2col(x, input_offset, out_h, out_w, stride_h, stride_w, dilation_h, dilation_w, pad_h, pad_w, filter_h,
           filter_w, cols):
    """cols[(b, oy, ox), (ky, kx, c)] = x[b, iy, ix, c] + input_offset, or 0 where the tap is padding.

    The references skip taps that fall outside the image, which is exactly a zero once the input
    offset has been added. x and cols must be C-contiguous.
    """
    # Flat arrays indexed with unsigned integers: no negative-index wraparound test per element, so
    # LLVM vectorises the copies (3-6x faster than 4-D indexing).
    batches, in_h, in_w, in_c = x.shape
    flat_x = x.reshape(-1)
    flat_cols = cols.reshape(-1)
    depth = cols.shape[1]
    run = filter_w * in_c
    for b in range(batches):
        for oy in range(out_h):
            for ox in range(out_w):
                row_start = ((b * out_h + oy) * out_w + ox) * depth
                ix0 = ox * stride_w - pad_w
                for ky in range(filter_h):
                    iy = oy * stride_h - pad_h + ky * dilation_h
                    dst = row_start + ky * run
                    if iy < 0 or iy >= in_h:
                        for k in range(run):
                            flat_cols[np.uintp(dst + k)] = 0
                        continue
                    src_row = (b * in_h + iy) * in_w * in_c
                    if dilation_w == 1 and ix0 >= 0 and ix0 + filter_w <= in_w:
                        # The whole filter row lies inside the image: one contiguous run.
                        src = src_row + ix0 * in_c
                        for k in range(run):
                            flat_cols[np.uintp(dst + k)] = flat_x[np.uintp(src + k)] + input_offset
                        continue
                    for kx in range(filter_w):
                        ix = ix0 + kx * dilation_w
                        tap = dst + kx * in_c
                        if 0 <= ix < in_w:
                            src = src_row + ix * in_c
                            for c in range(in_c):
                                flat_cols[np.uintp(tap + c)] = flat_x[np.uintp(src + c)] + input_offset
                        else:
                            for c in range(in_c):
                                flat_cols[np.uintp(tap + c)] = 0
