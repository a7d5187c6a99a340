"""ADD and SUB: int8 and int16, with broadcasting.

Both references rescale each input to twice the larger input scale (after a left shift of 20 bits
for int8, 15 for int16), add or subtract, and requantize the sum to the output; both derive the
three multipliers in double and round twice (see elementwise.py). (Some TFLite Micro sources derive
SUB's in float32; the installed tflite-micro package was measured to use double.) They differ in:

* TFLite runs int16 operands whose scales are all powers of two (with pot_scale_int16 set) through
  a separate shift-and-saturate path; TFLite Micro always uses the general path.
* TFLite's SUB accepts an output multiplier above one, then shifts by a negative amount (undefined
  behaviour); TFLite Micro refuses it, and so does edgeml.

The kernel precomputes each input's rescaled value for every possible input; int8 operands go
further and use one table of all 256 x 256 results.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from numba import njit

from edgeml.codegen.c_values import CCall, CFloat
from edgeml.ir.dtypes import DType
from edgeml.ops.base import ALL_NUMERICS, Numerics, OpContext, OpSpec
from edgeml.ops.common import Activation, activation_range
from edgeml.ops.conv_common import onnx_activation_range
from edgeml.ops.elementwise import (
    ELEMENTWISE_ROUNDING,
    BroadcastPlan,
    broadcast_int64,
    c_broadcast,
    c_int32_table,
    inplace_over_full_inputs,
    per_tensor_quant,
    prepare_binary,
    run_lookup2d,
)
from edgeml.quant.fixedpoint import rounding_divide_by_pot_array
from edgeml.quant.requant import (
    Rounding,
    multiply_by_quantized_multiplier,
    multiply_by_quantized_multiplier_array,
    onnx_qlinear_add,
    onnx_qlinear_add_constants,
    quantize_multiplier,
    rounding_divide_by_pot,
)


@dataclass(frozen=True)
class AddSubAttrs:
    activation: Activation = Activation.NONE
    pot_scale_int16: bool = True
    # onnxruntime numerics: 128 when the ONNX model stored these operands as uint8 (edgeml keeps
    # them as int8), since MLAS rounds sums of the stored values.
    onnx_value_offset: int = 0


@dataclass(frozen=True, eq=False)
class AddSubParams:
    sign: int  # +1 for ADD, -1 for SUB
    plan: BroadcastPlan
    # General path: (q + offset) << left_shift, rescaled per input, combined, requantized.
    left_shift: int
    offsets: tuple[int, int]
    multipliers: tuple[int, int]
    shifts: tuple[int, int]
    output_multiplier: int
    output_shift: int
    output_offset: int
    lo: int
    hi: int
    rounding: Rounding
    # TFLite's int16 power-of-two path: one input shifted right, no output requantization.
    pot: bool
    pot_shifts: tuple[int, int]
    # Kernel tables: each input's rescaled value for every input value; int8: every result.
    scaled: tuple[np.ndarray, np.ndarray]
    table: np.ndarray
    # onnxruntime numerics (QLinearAdd): scales, zero points and value offset of onnx_qlinear_add.
    onnx_add: tuple | None = None


def prepare_add(ctx: OpContext) -> AddSubParams:
    return _prepare(ctx, sign=1)


def prepare_sub(ctx: OpContext) -> AddSubParams:
    return _prepare(ctx, sign=-1)


def _prepare(ctx: OpContext, sign: int) -> AddSubParams:
    plan = prepare_binary(ctx, DType.INT8, DType.INT16)
    a, b, out = ctx.input(0), ctx.input(1), ctx.output()
    if out.dtype is not a.dtype:
        raise ctx.unsupported(f"output is {out.dtype.value}, inputs are {a.dtype.value}")
    attrs: AddSubAttrs = ctx.attrs or AddSubAttrs()
    (s1, z1), (s2, z2) = per_tensor_quant(ctx, a, "input 0"), per_tensor_quant(ctx, b, "input 1")
    s_out, z_out = per_tensor_quant(ctx, out, "output")
    if ctx.numerics.is_onnx:
        return _prepare_onnx(ctx, plan, sign, (s1, s2, s_out), (z1, z2, z_out), attrs)
    wide = a.dtype is DType.INT16
    if wide and ctx.numerics is Numerics.TFLITE and (z1, z2, z_out) != (0, 0, 0):
        raise ctx.unsupported("int16 operands need zero points of 0")
    lo, hi = activation_range(ctx, attrs.activation, out)
    rounding = ELEMENTWISE_ROUNDING
    pot_shifts = _pot_shifts(ctx, (s1, s2, s_out), plan, sign) if wide and attrs.pot_scale_int16 else None
    left_shift = 15 if wide else 20
    if pot_shifts is None:
        real = _real_multipliers(ctx, s1, s2, s_out, left_shift)
        (m1, sh1), (m2, sh2), (mo, sho) = (quantize_multiplier(r, rounding) for r in real)
    else:
        (m1, sh1), (m2, sh2), (mo, sho) = (0, 0), (0, 0), (0, 0)
    params = AddSubParams(
        sign=sign, plan=plan, left_shift=left_shift, offsets=(-z1, -z2), multipliers=(m1, m2), shifts=(sh1, sh2),
        output_multiplier=mo, output_shift=sho, output_offset=z_out, lo=lo, hi=hi, rounding=rounding,
        pot=pot_shifts is not None, pot_shifts=pot_shifts or (0, 0), scaled=(), table=np.zeros(0, np.int8),
    )
    return _with_tables(params, a.dtype.np)


def _prepare_onnx(ctx: OpContext, plan: BroadcastPlan, sign: int, scales: tuple[float, float, float],
                  zero_points: tuple[int, int, int], attrs: AddSubAttrs) -> AddSubParams:
    """QLinearAdd (int8; a uint8 model's operands arrive as int8 plus onnx_value_offset): one table of
    every pair's result. An a that repeats along onnxruntime's innermost span takes MLAS's scalar-a form."""
    if sign < 0 or ctx.input(0).dtype is not DType.INT8:
        raise ctx.unsupported("onnxruntime numerics cover int8 ADD only")
    lo, hi = onnx_activation_range(ctx, attrs.activation, ctx.output())
    a_scalar = plan.a_step == 0 and plan.b_step != 0 and plan.run_length > 1
    form = (scales, zero_points, attrs.onnx_value_offset, lo, hi, a_scalar)
    values = np.arange(-128, 128, dtype=np.int64)
    table = onnx_qlinear_add(values[:, None], values[None, :], *form)
    return AddSubParams(
        sign=sign, plan=plan, left_shift=0, offsets=(0, 0), multipliers=(0, 0), shifts=(0, 0), output_multiplier=0,
        output_shift=0, output_offset=zero_points[2], lo=lo, hi=hi, rounding=Rounding.SINGLE, pot=False,
        pot_shifts=(0, 0), scaled=(), table=table.astype(np.int8).reshape(-1), onnx_add=form,
    )


def _with_tables(p: AddSubParams, dtype: np.dtype) -> AddSubParams:
    """The kernel's tables: each input's rescaled value per input value; for int8, every result."""
    v_min, v_max = int(np.iinfo(dtype).min), int(np.iinfo(dtype).max)
    scaled = tuple(
        _scaled_inputs(v_min, v_max - v_min + 1, p.offsets[k], p.left_shift, p.multipliers[k], p.shifts[k],
                       p.pot_shifts[k], p.pot, int(p.rounding))
        for k in range(2)
    )
    table = p.table
    if dtype == np.int8:
        table = _pair_table(scaled[0], scaled[1], p.sign, p.pot, p.output_multiplier, p.output_shift,
                            p.output_offset, p.lo, p.hi, int(p.rounding))
    return replace(p, scaled=scaled, table=table)


def _real_multipliers(ctx: OpContext, s1: float, s2: float, s_out: float,
                      left_shift: int) -> tuple[float, float, float]:
    """Input and output real multipliers, in double in both references."""
    twice = 2.0 * max(s1, s2)
    real = (s1 / twice, s2 / twice, twice / ((1 << left_shift) * s_out))
    # TFLite's SUB accepts an output multiplier above one but then right-shifts by a negative amount
    # (undefined in C++); TFLite Micro and TFLite's ADD refuse it. So does edgeml.
    if not 0.0 < real[2] < 1.0:
        raise ctx.unsupported(f"output rescale factor {real[2]:.6g} is out of the supported range (0, 1)")
    if min(real[:2]) <= 0.0:
        raise ctx.unsupported("an input scale is zero")
    return real


def checked_log2(x: float) -> tuple[bool, int]:
    """TFLite's CheckedLog2 in float32: (x is a power of two within 1e-3 in log2, the rounded log2)."""
    f32 = np.float32
    log2 = f32(np.log(f32(x))) * (f32(1.0) / f32(np.log(f32(2.0))))
    rounded = f32(np.sign(log2) * np.floor(np.abs(np.float64(log2)) + 0.5))
    return bool(abs(log2 - rounded) < f32(1e-3)), int(rounded)


def _pot_shifts(ctx: OpContext, scales: tuple[float, float, float], plan: BroadcastPlan,
                sign: int) -> tuple[int, int] | None:
    """TFLite's int16 path for power-of-two scales: right shifts of the two inputs, or None."""
    if ctx.numerics is not Numerics.TFLITE:
        return None
    checks = [checked_log2(s) for s in scales]
    if not all(is_pot for is_pot, _ in checks):
        return None
    shift1, shift2 = checks[0][1] - checks[2][1], checks[1][1] - checks[2][1]
    if not (shift1 == 0 or shift2 == 0) or shift1 > 0 or shift2 > 0:
        raise ctx.unsupported("int16 power-of-two scales: exactly one input may be scaled, and only down")
    broadcasts = plan.a_starts.size != 1 or plan.a_step != 1 or plan.b_step != 1
    if broadcasts and sign > 0:
        raise ctx.unsupported("int16 power-of-two scales: TFLite's ADD does not broadcast on this path")
    return -shift1, -shift2


@njit(cache=True)
def _scaled_inputs(v_min, count, offset, left_shift, multiplier, shift, pot_shift, pot, rounding):
    """Each input value's contribution to the sum, for every value of the input type."""
    out = np.empty(count, np.int64)
    for k in range(count):
        v = v_min + k
        if pot:
            out[k] = rounding_divide_by_pot(v, pot_shift)
        else:
            out[k] = multiply_by_quantized_multiplier((v + offset) * (1 << left_shift), multiplier, shift, rounding)
    return out


@njit(cache=True, inline="always")
def _combine(x1, x2, sign, pot, multiplier, shift, offset, lo, hi, rounding):
    raw = x1 + sign * x2
    if not pot:
        raw = multiply_by_quantized_multiplier(raw, multiplier, shift, rounding) + offset
    return min(max(raw, lo), hi)


@njit(cache=True)
def _pair_table(scaled1, scaled2, sign, pot, multiplier, shift, offset, lo, hi, rounding):
    n1, n2 = scaled1.shape[0], scaled2.shape[0]
    table = np.empty(n1 * n2, np.int8)
    for i in range(n1):
        for j in range(n2):
            table[i * n2 + j] = _combine(scaled1[i], scaled2[j], sign, pot, multiplier, shift, offset, lo, hi,
                                         rounding)
    return table


@njit(cache=True)
def _add_sub_int16(a, b, a_starts, b_starts, run_length, a_step, b_step, scaled1, scaled2, sign, pot,
                   multiplier, shift, offset, lo, hi, rounding, out):
    for r in range(a_starts.shape[0]):
        a0, b0, o0 = a_starts[r], b_starts[r], r * run_length
        for i in range(run_length):
            x1 = scaled1[np.int64(a[a0 + i * a_step]) + 32768]
            x2 = scaled2[np.int64(b[b0 + i * b_step]) + 32768]
            out[o0 + i] = _combine(x1, x2, sign, pot, multiplier, shift, offset, lo, hi, rounding)


def reference(p: AddSubParams, inputs) -> list[np.ndarray]:
    if p.onnx_add is not None:
        a, b = broadcast_int64(inputs[0], inputs[1])
        return [onnx_qlinear_add(a, b, *p.onnx_add).astype(inputs[0].dtype)]
    a, b = broadcast_int64(inputs[0], inputs[1])
    if p.pot:
        raw = rounding_divide_by_pot_array(a, p.pot_shifts[0]) + p.sign * rounding_divide_by_pot_array(
            b, p.pot_shifts[1])
    else:
        scaled = [
            multiply_by_quantized_multiplier_array((x + p.offsets[k]) * (1 << p.left_shift), p.multipliers[k],
                                                   p.shifts[k], p.rounding)
            for k, x in enumerate((a, b))
        ]
        raw = multiply_by_quantized_multiplier_array(scaled[0] + p.sign * scaled[1], p.output_multiplier,
                                                     p.output_shift, p.rounding) + p.output_offset
    return [np.clip(raw, p.lo, p.hi).astype(inputs[0].dtype)]


def kernel(p: AddSubParams, inputs, outputs) -> None:
    a, b, out = inputs[0], inputs[1], outputs[0]
    if a.dtype == np.int8:
        run_lookup2d(p.plan, p.table, a, b, out)
        return
    plan = p.plan
    _add_sub_int16(a.reshape(-1), b.reshape(-1), plan.a_starts, plan.b_starts, plan.run_length, plan.a_step,
                   plan.b_step, p.scaled[0], p.scaled[1], p.sign, p.pot, p.output_multiplier, p.output_shift,
                   p.output_offset, p.lo, p.hi, int(p.rounding), out.reshape(-1))


def c_emit(p: AddSubParams, ctx: OpContext) -> CCall:
    """int8 reads the two per-value tables of rescaled inputs (1 KB each; the 64 KB pair table stays on
    the host); int16 rescales each element as the numba kernel does; onnxruntime's QLinearAdd computes
    MLAS's fused multiply-adds per element."""
    if p.onnx_add is not None:
        scales, zero_points, offset, lo, hi, a_scalar = p.onnx_add
        fixed, ratio1, ratio2 = onnx_qlinear_add_constants(scales, zero_points, offset)
        return CCall(module="add_sub", function="edg_add_s8_onnx", params_type="edg_add_sub_params_t", fields={
            "bc": c_broadcast(ctx), "lo": lo, "hi": hi, "onnx_fixed": CFloat(float(fixed)),
            "onnx_ratio1": CFloat(float(ratio1)), "onnx_ratio2": CFloat(float(ratio2)),
            "onnx_value_offset": offset, "onnx_a_scalar": bool(a_scalar)})
    int8 = ctx.input(0).dtype is DType.INT8
    tables = {"scaled1": c_int32_table(ctx, p.scaled[0]), "scaled2": c_int32_table(ctx, p.scaled[1])} if int8 else {}
    return CCall(
        module="add_sub", function="edg_add_sub_s8" if int8 else "edg_add_sub_s16",
        params_type="edg_add_sub_params_t",
        fields={
            "bc": c_broadcast(ctx), "sign": p.sign, "pot": p.pot, "left_shift": p.left_shift,
            "offset1": p.offsets[0], "offset2": p.offsets[1],
            "multiplier1": p.multipliers[0], "shift1": p.shifts[0],
            "multiplier2": p.multipliers[1], "shift2": p.shifts[1],
            "pot_shift1": p.pot_shifts[0], "pot_shift2": p.pot_shifts[1],
            "output_multiplier": p.output_multiplier, "output_shift": p.output_shift,
            "output_offset": p.output_offset, "lo": p.lo, "hi": p.hi, "rounding": int(p.rounding), **tables,
        },
    )


ADD_SPEC = OpSpec(name="ADD", prepare=prepare_add, reference=reference, kernel=kernel, inplace=inplace_over_full_inputs,
                  c_emit=c_emit, numerics=ALL_NUMERICS, c_numerics=ALL_NUMERICS)
SUB_SPEC = OpSpec(name="SUB", prepare=prepare_sub, reference=reference, kernel=kernel, inplace=inplace_over_full_inputs,
                  c_emit=c_emit)
