"""QUANTIZE: float32 -> int8/int16, and requantization between int8, int16 and int32.

float32 input: q = round_half_away(x / scale) in float32 arithmetic, plus the zero point, clamped
(TFLite's AffineQuantize; identical in both references). Integer input: (q - z_in) is requantized by
s_in / s_out (computed in double) with the reference's rounding, then clamped to the output type.
8- and 16-bit integer inputs run as a table over every input value.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from edgeml.codegen.c_values import CArray, CCall, CFloat
from edgeml.ir.dtypes import DType
from edgeml.ops.base import ALL_NUMERICS, OpContext, OpSpec
from edgeml.ops.common import dtype_limits, require_dtype
from edgeml.ops.elementwise import ELEMENTWISE_ROUNDING, per_tensor_quant
from edgeml.ops.lut import input_values, run_lookup
from edgeml.quant.fixedpoint import wrap_int32
from edgeml.quant.requant import (
    INT32_MIN,
    Rounding,
    multiply_by_quantized_multiplier,
    multiply_by_quantized_multiplier_array,
    quantize_multiplier,
)

_INTEGER_INPUTS = (DType.INT8, DType.INT16, DType.INT32)


@dataclass(frozen=True, eq=False)
class QuantizeParams:
    from_float: bool
    scale: float  # float input: the output scale (float32 value)
    input_offset: int
    output_offset: int
    multiplier: int
    shift: int
    rounding: Rounding
    lo: int
    hi: int
    output_dtype: np.dtype
    table: np.ndarray  # 8/16-bit integer input: every input value's result; else empty
    onnx: bool = False  # onnxruntime's QuantizeLinear: float32 division, round half to even
    unsigned_input: bool = False  # uint8 input (an ONNX model's uint8 tensor entering edgeml's int8)


def prepare(ctx: OpContext) -> QuantizeParams:
    x, out = ctx.input(0), ctx.output()
    if DType.UINT8 in (x.dtype, out.dtype):
        return _prepare_uint8_shift(ctx)
    require_dtype(ctx, x, "input", DType.FLOAT32, *_INTEGER_INPUTS)
    s_out, z_out = per_tensor_quant(ctx, out, "output")
    lo, hi = dtype_limits(out.dtype) if out.dtype.is_integer else (0, 0)
    rounding = ELEMENTWISE_ROUNDING
    if x.dtype is DType.FLOAT32:
        require_dtype(ctx, out, "output", DType.INT8, DType.INT16)
        onnx = ctx.numerics.is_onnx
        return QuantizeParams(True, s_out, 0, z_out, 0, 0, Rounding.FLOAT32 if onnx else rounding, lo, hi,
                              out.dtype.np, np.zeros(0, out.dtype.np), onnx=onnx)
    if ctx.numerics.is_onnx:
        raise ctx.unsupported("onnxruntime's QuantizeLinear takes float input only")
    require_dtype(ctx, out, "output", *_supported_requantize_outputs(x.dtype))
    s_in, z_in = per_tensor_quant(ctx, x, "input")
    if x.dtype is DType.INT16 and out.dtype is DType.INT16 and (z_in, z_out) != (0, 0):
        raise ctx.unsupported("int16 -> int16 requantization needs zero points of 0")
    try:
        multiplier, shift = quantize_multiplier(s_in / s_out, rounding)
    except (ValueError, ZeroDivisionError) as exc:
        raise ctx.unsupported(f"cannot requantize from scale {s_in} to {s_out}: {exc}") from None
    table = np.zeros(0, out.dtype.np)
    if x.dtype is not DType.INT32:
        table = _requantize(input_values(x.dtype.np), z_in, z_out, multiplier, shift, lo, hi, int(rounding)).astype(
            out.dtype.np)
    return QuantizeParams(False, 0.0, z_in, z_out, multiplier, shift, rounding, lo, hi, out.dtype.np, table)


def _prepare_uint8_shift(ctx: OpContext) -> QuantizeParams:
    """uint8 <-> int8 with one scale and zero points 128 apart: every value moves by exactly 128, in
    any numerics. edgeml computes an ONNX model's uint8 tensors as int8 and converts at its edges."""
    x, out = ctx.input(0), ctx.output()
    pair = (x.dtype, out.dtype)
    if pair not in ((DType.UINT8, DType.INT8), (DType.INT8, DType.UINT8)):
        raise ctx.unsupported(f"{x.dtype.value} -> {out.dtype.value} is not supported")
    (s_in, z_in), (s_out, z_out) = per_tensor_quant(ctx, x, "input"), per_tensor_quant(ctx, out, "output")
    if np.float32(s_in) != np.float32(s_out) or abs(z_in - z_out) != 128:
        raise ctx.unsupported("uint8 <-> int8 needs equal scales and zero points 128 apart")
    lo, hi = dtype_limits(out.dtype)
    values = np.arange(256, dtype=np.int64) + int(np.iinfo(x.dtype.np).min)
    table = np.clip(values - z_in + z_out, lo, hi).astype(out.dtype.np)
    return QuantizeParams(False, 0.0, z_in, z_out, 0, 0, Rounding.SINGLE, lo, hi, out.dtype.np, table,
                          unsigned_input=x.dtype is DType.UINT8)


def _quantize_onnx(x: np.ndarray, scale: float, zero_point: int, lo: int, hi: int) -> np.ndarray:
    """MlasQuantizeLinear: x / scale in float32, clamped to [lo - zp, hi - zp] (NaN to the low end, as
    maxps does), converted half to even, plus the zero point."""
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        q = x.astype(np.float32) / np.float32(scale)
        q = np.where(np.isnan(q), np.float32(lo - zero_point), np.clip(q, lo - zero_point, hi - zero_point))
    return np.rint(q).astype(np.int64) + zero_point


def _supported_requantize_outputs(input_dtype: DType) -> tuple[DType, ...]:
    """The integer -> integer pairs both references implement."""
    if input_dtype is DType.INT32:
        return DType.INT8, DType.INT16
    if input_dtype is DType.INT16:
        return DType.INT8, DType.INT16, DType.INT32
    return DType.INT8, DType.INT16


@njit(cache=True, inline="always")
def _requantize_one(q, input_offset, output_offset, multiplier, shift, lo, hi, rounding):
    x = wrap_int32(q - input_offset)  # C int32 arithmetic
    if rounding == 1 and shift > 0:
        # gemmlowp shifts left in int32 before the high multiply: wraps like C.
        x = wrap_int32(x << shift)
        shift = 0
    # The C code narrows the int64 product to int32 before clamping.
    value = wrap_int32(multiply_by_quantized_multiplier(x, multiplier, shift, rounding) + output_offset)
    return min(max(value, lo), hi)


@njit(cache=True)
def _requantize(values, input_offset, output_offset, multiplier, shift, lo, hi, rounding):
    out = np.empty(values.shape[0], np.int64)
    for k in range(values.shape[0]):
        out[k] = _requantize_one(values[k], input_offset, output_offset, multiplier, shift, lo, hi, rounding)
    return out


@njit(cache=True)
def _quantize_float(x, scale, zero_point, lo, hi, out):
    for i in range(x.shape[0]):
        q = np.float32(x[i]) / scale  # float32 division, as TFLite
        qd = np.float64(q)
        if not (-2147483648.5 < qd < 2147483647.5):
            rounded = INT32_MIN  # x86 result of an out-of-range or NaN float -> int32 conversion
        elif qd >= 0:
            rounded = np.int64(np.floor(qd + 0.5))
        else:
            rounded = -np.int64(np.floor(-qd + 0.5))
        value = wrap_int32(rounded + zero_point)
        out[i] = min(max(value, lo), hi)


@njit(cache=True)
def _requantize_int32(x, input_offset, output_offset, multiplier, shift, lo, hi, rounding, out):
    for i in range(x.shape[0]):
        out[i] = _requantize_one(np.int64(x[i]), input_offset, output_offset, multiplier, shift, lo, hi, rounding)


def _wrap_int32_array(x: np.ndarray) -> np.ndarray:
    return ((x.astype(np.int64) + (1 << 31)) % (1 << 32)) - (1 << 31)


def reference(p: QuantizeParams, inputs) -> list[np.ndarray]:
    x = inputs[0]
    if p.onnx:
        return [_quantize_onnx(x, p.scale, p.output_offset, p.lo, p.hi).astype(p.output_dtype)]
    if p.unsigned_input or p.output_dtype == np.uint8:  # the exact uint8 <-> int8 shift
        return [np.clip(x.astype(np.int64) - p.input_offset + p.output_offset, p.lo, p.hi).astype(p.output_dtype)]
    if p.from_float:
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            q = (x.astype(np.float32) / np.float32(p.scale)).astype(np.float64)
            in_range = (q > -2147483648.5) & (q < 2147483647.5)
            rounded = np.where(in_range, np.sign(q) * np.floor(np.abs(q) + 0.5), INT32_MIN)
        value = _wrap_int32_array(np.nan_to_num(rounded).astype(np.int64) + p.output_offset)
        return [np.clip(value, p.lo, p.hi).astype(p.output_dtype)]
    v = _wrap_int32_array(x.astype(np.int64) - p.input_offset)
    shift = p.shift
    if p.rounding is Rounding.DOUBLE and shift > 0:
        v, shift = _wrap_int32_array(v << shift), 0
    scaled = multiply_by_quantized_multiplier_array(v, p.multiplier, shift, p.rounding)
    value = _wrap_int32_array(scaled + p.output_offset)
    return [np.clip(value, p.lo, p.hi).astype(p.output_dtype)]


def kernel(p: QuantizeParams, inputs, outputs) -> None:
    x, out = inputs[0], outputs[0]
    if p.onnx:
        out[...] = _quantize_onnx(x, p.scale, p.output_offset, p.lo, p.hi).reshape(out.shape)
    elif p.unsigned_input:
        out[...] = p.table[x]
    elif p.from_float:
        _quantize_float(x.reshape(-1), np.float32(p.scale), p.output_offset, p.lo, p.hi, out.reshape(-1))
    elif p.table.size:
        run_lookup(p.table, x, out)
    else:
        _requantize_int32(x.reshape(-1), p.input_offset, p.output_offset, p.multiplier, p.shift, p.lo, p.hi,
                          int(p.rounding), out.reshape(-1))


_C_SUFFIX = {DType.FLOAT32: "f32", DType.INT8: "s8", DType.INT16: "s16", DType.INT32: "s32", DType.UINT8: "u8"}


def c_emit(p: QuantizeParams, ctx: OpContext) -> CCall:
    """float32 input: the float32 division and rounding in C; int8 input: the 256-entry table; int16 and
    int32 input: one requantization per element (an int16 table would be 64K entries)."""
    x, out = ctx.input(0), ctx.output()
    if DType.UINT8 in (x.dtype, out.dtype):
        # prepare accepted only the exact shift by 128 (equal scales): the top bit of every byte flips
        return CCall(module="quantize", function=f"edg_quantize_{_C_SUFFIX[x.dtype]}_{_C_SUFFIX[out.dtype]}",
                     params_type="edg_quantize_params_t", fields={"count": out.num_elements})
    fields = {"count": out.num_elements, "scale": CFloat(p.scale), "input_offset": p.input_offset,
              "output_offset": p.output_offset, "multiplier": p.multiplier, "shift": p.shift,
              "rounding": int(p.rounding), "lo": p.lo, "hi": p.hi}
    if x.dtype is DType.INT8:
        fields["table16" if out.dtype is DType.INT16 else "table8"] = CArray(p.table, out.dtype.np)
    return CCall(module="quantize", function=f"edg_quantize_{_C_SUFFIX[x.dtype]}_{_C_SUFFIX[out.dtype]}",
                 params_type="edg_quantize_params_t", fields=fields)


SPEC = OpSpec(name="QUANTIZE", prepare=prepare, reference=reference, kernel=kernel, c_emit=c_emit,
              numerics=ALL_NUMERICS, c_numerics=ALL_NUMERICS)
