"""SOFTMAX over the last axis: int8 input, int8 or int16 output, the gemmlowp fixed-point path.

Both references run the same algorithm (reference_ops::Softmax): the input difference to the row
maximum is scaled by beta * input_scale into Q5.26, exp() is gemmlowp's exp_on_negative_values,
the sum of exps (Q12.19) is inverted with GetReciprocal and each exp scaled by it. They differ in
two places, both reproduced here from ctx.numerics:

* the diff rescaling, MultiplyByQuantizedMultiplierGreaterThanOne: a single rounding
  (x * m + 2^(30 - s)) >> (31 - s) in TFLite (TFLITE_SINGLE_ROUNDING), gemmlowp's
  SaturatingRoundingDoublingHighMul(x * 2^s, m) in TFLite Micro;
* PreprocessSoftmaxScaling caps the real multiplier at 2^30 - 1 in TFLite, 2^31 - 1 in TFLM.

Neither difference has been observed to change an output (the roundings differ only on exact
ties; the cap matters only for beta * scale > 16, where both sides output 0 for every non-maximal
element): they follow the sources. Unlike MEAN and BATCH_MATMUL, no measurement contradicts them.

An int8 difference takes only 256 values, so prepare() tabulates exp() of every one; the kernel
looks values up while the numpy reference recomputes them element by element.

int16 input (SoftmaxInt16, both references): exp() and 1/(1+x) come from 513-entry interpolated
tables (LUTPopulateInt16). TFLite fills them in double and computes the diff multiplier from a
float32 product scale * beta; TFLite Micro fills them in float32 (the C library's expf) and
multiplies scale and beta in double. Both are reproduced.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from edgeml.codegen.c_values import CArray, CCall
from edgeml.ir.dtypes import DType
from edgeml.ops.base import Numerics, OpContext, OpSpec
from edgeml.ops.common import require_dtype, require_quant
from edgeml.ops.lut import libm_float
from edgeml.quant.fixedpoint import count_leading_zeros32, exp_on_negative_values, get_reciprocal
from edgeml.quant.lut_int16 import lut_lookup_int16, lut_populate_int16
from edgeml.quant.requant import (
    Rounding,
    multiply_by_quantized_multiplier,
    quantize_multiplier,
    rounding_divide_by_pot,
    saturating_rounding_doubling_high_mul,
)

SCALED_DIFF_INTEGER_BITS = 5
ACCUMULATION_INTEGER_BITS = 12


@dataclass(frozen=True)
class SoftmaxAttrs:
    beta: float = 1.0


@dataclass(frozen=True, eq=False)
class SoftmaxParams:
    input_multiplier: int
    input_left_shift: int
    diff_min: int
    rounding: Rounding
    output_bits: int  # 8 or 16
    output_min: int
    output_max: int
    # Indexed by -diff (0..255): exp(diff) in Q0.31, 0 where diff < diff_min (excluded from the sum).
    exp_table: np.ndarray
    # The same exps rescaled to the Q12.19 accumulator.
    exp_accum_table: np.ndarray


def preprocess_softmax_scaling(beta: float, input_scale: float, rounding: Rounding) -> tuple[int, int]:
    """PreprocessSoftmaxScaling: beta * scale as a Q5.26 multiplier (mantissa, left shift >= 0)."""
    cap = float((1 << 30) - 1) if rounding is Rounding.SINGLE else float((1 << 31) - 1)
    real = min(beta * input_scale * float(1 << (31 - SCALED_DIFF_INTEGER_BITS)), cap)
    if not real > 1.0:
        raise ValueError(f"softmax input multiplier {real} is not above one")
    multiplier, shift = quantize_multiplier(real, rounding)
    return multiplier, shift


def input_radius(input_left_shift: int) -> int:
    """CalculateInputRadius(5, shift, 31): the largest |diff| whose rescaled value stays in range."""
    bits = SCALED_DIFF_INTEGER_BITS
    return int(np.floor(1.0 * ((1 << bits) - 1) * float(1 << (31 - bits)) / float(1 << input_left_shift)))


@njit(cache=True)
def rescale_diff(diff: int, multiplier: int, left_shift: int, rounding: int) -> int:
    """MultiplyByQuantizedMultiplierGreaterThanOne in the chosen reference's rounding."""
    if rounding == 0:
        return multiply_by_quantized_multiplier(diff, multiplier, left_shift, 0)
    return saturating_rounding_doubling_high_mul(diff * (1 << left_shift), multiplier)


def prepare(ctx: OpContext) -> SoftmaxParams | SoftmaxInt16Params:
    x, out = ctx.input(0), ctx.output()
    require_dtype(ctx, x, "input", DType.INT8, DType.INT16)
    if x.dtype is DType.INT16:
        return prepare_int16(ctx)
    require_dtype(ctx, out, "output", DType.INT8, DType.INT16)
    if x.shape != out.shape or not x.shape:
        raise ctx.unsupported(f"input shape {x.shape} and output shape {out.shape} must match (rank >= 1)")
    in_q, out_q = require_quant(ctx, x, "input"), require_quant(ctx, out, "output")
    _check_output_quant(ctx, out.dtype, out_q.single_scale, out_q.single_zero_point)
    rounding = ctx.numerics.rounding
    beta = float(np.float32(ctx.attrs.beta))
    try:
        multiplier, left_shift = preprocess_softmax_scaling(beta, float(np.float32(in_q.single_scale)), rounding)
    except ValueError as exc:
        raise ctx.unsupported(str(exc)) from None
    diff_min = -input_radius(left_shift)
    exp_table, exp_accum_table = _exp_tables(multiplier, left_shift, diff_min, int(rounding))
    info = np.iinfo(out.dtype.np)
    return SoftmaxParams(multiplier, left_shift, diff_min, rounding, info.bits, int(info.min), int(info.max),
                         exp_table, exp_accum_table)


def _check_output_quant(ctx: OpContext, dtype: DType, scale: float, zero_point: int) -> None:
    # The fixed-point path writes probabilities in units of 2^-bits offset by the type's minimum.
    if dtype is DType.INT8 and (zero_point != -128 or abs(scale - 1 / 256) > 0.001 / 256):
        raise ctx.unsupported(f"int8 output must have scale 1/256 and zero point -128, got {scale}, {zero_point}")
    if dtype is DType.INT16 and (zero_point != -32768 or abs(scale - 1 / 65536) > 0.001 / 65536):
        raise ctx.unsupported(f"int16 output must have scale 1/65536 and zero point -32768, got {scale}, {zero_point}")
    if ctx.numerics is Numerics.TFLM and dtype is DType.INT8 and np.float32(scale) != np.float32(1 / 256):
        raise ctx.unsupported("TFLite Micro needs an int8 output scale of exactly 1/256")


def _exp_tables(multiplier: int, left_shift: int, diff_min: int, rounding: int) -> tuple[np.ndarray, np.ndarray]:
    exp_table = np.zeros(256, np.int64)
    accum_table = np.zeros(256, np.int64)
    for neg_diff in range(256):
        if -neg_diff >= diff_min:
            exp_table[neg_diff] = _exp_of_diff(-neg_diff, multiplier, left_shift, rounding)
            accum_table[neg_diff] = rounding_divide_by_pot(int(exp_table[neg_diff]), ACCUMULATION_INTEGER_BITS)
    return exp_table, accum_table


def _exp_of_diff(diff: int, multiplier: int, left_shift: int, rounding: int) -> int:
    scaled = rescale_diff(diff, multiplier, left_shift, rounding)
    return exp_on_negative_values(scaled, SCALED_DIFF_INTEGER_BITS)


def reference(p: SoftmaxParams | SoftmaxInt16Params, inputs) -> list[np.ndarray]:
    if isinstance(p, SoftmaxInt16Params):
        return reference_int16(p, inputs)
    x = inputs[0]
    rows = x.reshape(-1, x.shape[-1]).astype(np.int64)
    out = np.empty(rows.shape, np.int64)
    for r, row in enumerate(rows):
        diffs = row - row.max()
        kept = diffs >= p.diff_min
        exps = {int(d): _exp_of_diff(int(d), p.input_multiplier, p.input_left_shift, int(p.rounding))
                for d in np.unique(diffs[kept])}
        total = sum(rounding_divide_by_pot(exps[int(d)], ACCUMULATION_INTEGER_BITS) for d in diffs[kept])
        scale, bits_over_unit = get_reciprocal(total, ACCUMULATION_INTEGER_BITS)
        exponent = bits_over_unit + 31 - p.output_bits
        for c, d in enumerate(diffs):
            if not kept[c]:
                out[r, c] = p.output_min
                continue
            unsat = rounding_divide_by_pot(saturating_rounding_doubling_high_mul(scale, exps[int(d)]), exponent)
            out[r, c] = min(max(unsat + p.output_min, p.output_min), p.output_max)
    dtype = np.int8 if p.output_bits == 8 else np.int16
    return [out.astype(dtype).reshape(x.shape)]


@njit(cache=True)
def softmax_rows(x, exp_table, exp_accum_table, output_bits, output_min, output_max, out):
    rows, depth = x.shape
    for r in range(rows):
        row_max = -128
        for c in range(depth):
            row_max = max(row_max, np.int64(x[r, c]))
        total = 0
        for c in range(depth):
            total += exp_accum_table[row_max - x[r, c]]
        scale, bits_over_unit = get_reciprocal(total, ACCUMULATION_INTEGER_BITS)
        exponent = bits_over_unit + 31 - output_bits
        for c in range(depth):
            e = exp_table[row_max - x[r, c]]
            # 0 marks a diff below diff_min; a kept exp that underflowed to 0 yields output_min as well.
            if e == 0:
                out[r, c] = output_min
            else:
                unsat = rounding_divide_by_pot(saturating_rounding_doubling_high_mul(scale, e), exponent)
                out[r, c] = min(max(unsat + output_min, output_min), output_max)


def kernel(p: SoftmaxParams | SoftmaxInt16Params, inputs, outputs) -> None:
    if isinstance(p, SoftmaxInt16Params):
        kernel_int16(p, inputs, outputs)
        return
    x = inputs[0]
    depth = x.shape[-1]
    softmax_rows(x.reshape(-1, depth), p.exp_table, p.exp_accum_table, p.output_bits, p.output_min,
                 p.output_max, outputs[0].reshape(-1, depth))


# --- int16: SoftmaxInt16 ---------------------------------------------------------------------------

_INT16_RANGE = 65535  # int16 max - min


@dataclass(frozen=True, eq=False)
class SoftmaxInt16Params:
    input_multiplier: int
    input_shift: int
    rounding: Rounding
    exp_lut: np.ndarray  # exp over [-10, 0], Q0.15 output
    one_over_one_plus_x_lut: np.ndarray  # 1/(1+x) over [0, 1]


def prepare_int16(ctx: OpContext) -> SoftmaxInt16Params:
    x, out = ctx.input(0), ctx.output()
    require_dtype(ctx, out, "output", DType.INT16)
    if x.shape != out.shape or not x.shape:
        raise ctx.unsupported(f"input shape {x.shape} and output shape {out.shape} must match (rank >= 1)")
    in_q, out_q = require_quant(ctx, x, "input"), require_quant(ctx, out, "output")
    if in_q.single_zero_point or out_q.single_zero_point or abs(out_q.single_scale - 1 / 32768) > 0.001 / 32768:
        raise ctx.unsupported("int16 softmax needs zero points 0 and an output scale of 1/32768")
    rounding = ctx.numerics.rounding
    scale, beta = np.float32(in_q.single_scale), np.float32(ctx.attrs.beta)
    if ctx.numerics is Numerics.TFLITE:
        # float * float in float32, then divided in double; tables in double.
        real = float(scale * beta) / (10.0 / 65535.0)
        exp_lut = lut_populate_int16(10.0 / _INT16_RANGE, 32767, 2.0 / _INT16_RANGE, 0, np.exp, np.float64)
        recip_lut = lut_populate_int16(1.0 / _INT16_RANGE, -32768, 2.0 / _INT16_RANGE, 0,
                                       lambda v: 1.0 / (1.0 + v), np.float64)
    else:
        real = float(scale) * float(beta) / (10.0 / 65535.0)
        f32, expf = np.float32, libm_float("expf", np.exp)
        exp_lut = lut_populate_int16(f32(10.0) / f32(_INT16_RANGE), 32767, f32(2.0) / f32(_INT16_RANGE), 0,
                                     expf, np.float32)
        recip_lut = lut_populate_int16(f32(1.0) / f32(_INT16_RANGE), -32768, f32(2.0) / f32(_INT16_RANGE), 0,
                                       lambda v: f32(f32(1.0) / f32(f32(1.0) + v)), np.float32)
    multiplier, shift = quantize_multiplier(real, rounding)
    return SoftmaxInt16Params(multiplier, shift, rounding, exp_lut, recip_lut)


def _int16_exp(diff: int, p: SoftmaxInt16Params) -> int:
    scaled = multiply_by_quantized_multiplier(diff, p.input_multiplier, p.input_shift, int(p.rounding))
    return int(lut_lookup_int16(min(max(scaled + 32767, -32768), 32767), p.exp_lut))


def reference_int16(p: SoftmaxInt16Params, inputs) -> list[np.ndarray]:
    x = inputs[0]
    rows = x.reshape(-1, x.shape[-1]).astype(np.int64)
    out = np.empty(rows.shape, np.int16)
    for r, row in enumerate(rows):
        exps = [_int16_exp(int(v - row.max()), p) for v in row]
        total = sum(exps)
        headroom_plus_one = count_leading_zeros32(total)
        shifted_total = ((total << (headroom_plus_one - 1)) + (1 << 13)) >> 14
        centred = min(max(shifted_total - (1 << 15) - (1 << 16), -32768), 32767)
        reciprocal = int(lut_lookup_int16(centred, p.one_over_one_plus_x_lut))
        right_shift = 31 - headroom_plus_one
        for c, e in enumerate(exps):
            out[r, c] = min(max((e * reciprocal + (1 << (right_shift - 1))) >> right_shift, 0), 32767)
    return [out.reshape(x.shape)]


@njit(cache=True)
def softmax_rows_int16(x, multiplier, shift, rounding, exp_lut, recip_lut, out):
    rows, depth = x.shape
    exps = np.empty(depth, np.int64)
    for r in range(rows):
        row_max = -32768
        for c in range(depth):
            row_max = max(row_max, np.int64(x[r, c]))
        total = 0
        for c in range(depth):
            scaled = multiply_by_quantized_multiplier(np.int64(x[r, c]) - row_max, multiplier, shift, rounding)
            exps[c] = lut_lookup_int16(min(max(scaled + 32767, -32768), 32767), exp_lut)
            total += exps[c]
        headroom_plus_one = count_leading_zeros32(total)
        shifted_total = ((total << (headroom_plus_one - 1)) + (1 << 13)) >> 14
        reciprocal = lut_lookup_int16(min(max(shifted_total - (1 << 15) - (1 << 16), -32768), 32767), recip_lut)
        right_shift = 31 - headroom_plus_one
        half = np.int64(1) << (right_shift - 1)
        for c in range(depth):
            out[r, c] = min(max((exps[c] * reciprocal + half) >> right_shift, 0), 32767)


def kernel_int16(p: SoftmaxInt16Params, inputs, outputs) -> None:
    x = inputs[0]
    depth = x.shape[-1]
    softmax_rows_int16(x.reshape(-1, depth), p.input_multiplier, p.input_shift, int(p.rounding), p.exp_lut,
                       p.one_over_one_plus_x_lut, outputs[0].reshape(-1, depth))


def c_emit(p: SoftmaxParams | SoftmaxInt16Params, ctx: OpContext) -> CCall:
    x = ctx.input(0)
    depth = x.shape[-1]
    shape = {"rows": x.num_elements // depth, "depth": depth}
    if isinstance(p, SoftmaxInt16Params):
        return CCall("softmax", "edg_softmax_s16", "edg_softmax_params_t",
                     {**shape, "input_multiplier": p.input_multiplier, "input_shift": p.input_shift,
                      "rounding": int(p.rounding), "exp_lut": CArray(p.exp_lut, np.int16),
                      "recip_lut": CArray(p.one_over_one_plus_x_lut, np.int16)})
    return CCall("softmax", f"edg_softmax_s8_s{p.output_bits}", "edg_softmax_params_t",
                 {**shape, "output_bits": p.output_bits, "output_min": p.output_min, "output_max": p.output_max,
                  "exp_table": CArray(p.exp_table, np.int32), "exp_accum_table": CArray(p.exp_accum_table, np.int32)})


SPEC = OpSpec(name="SOFTMAX", prepare=prepare, reference=reference, kernel=kernel, c_emit=c_emit)
