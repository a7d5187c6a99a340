"""SQUARED_DIFFERENCE: int8, with broadcasting.

Like SUB, each input is shifted left (by 7 bits here) and rescaled to twice the larger input scale;
the difference is squared and requantized. TFLite requires the output multiplier to be below one;
TFLite Micro accepts any. The kernel is one table of all 256 x 256 results.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from edgeml.codegen.c_values import CCall
from edgeml.ir.dtypes import DType
from edgeml.ops.base import Numerics, OpContext, OpSpec
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
from edgeml.quant.requant import (
    Rounding,
    multiply_by_quantized_multiplier,
    multiply_by_quantized_multiplier_array,
    quantize_multiplier,
)

LEFT_SHIFT = 7


@dataclass(frozen=True, eq=False)
class SquaredDifferenceParams:
    plan: BroadcastPlan
    offsets: tuple[int, int]
    multipliers: tuple[int, int]
    shifts: tuple[int, int]
    output_multiplier: int
    output_shift: int
    output_offset: int
    rounding: Rounding
    scaled: tuple[np.ndarray, np.ndarray]  # each input's rescaled value for every int8 value
    table: np.ndarray  # every (a, b) result


def prepare(ctx: OpContext) -> SquaredDifferenceParams:
    plan = prepare_binary(ctx, DType.INT8)
    a, b, out = ctx.input(0), ctx.input(1), ctx.output()
    if out.dtype is not a.dtype:
        raise ctx.unsupported(f"output is {out.dtype.value}, inputs are {a.dtype.value}")
    (s1, z1), (s2, z2) = per_tensor_quant(ctx, a, "input 0"), per_tensor_quant(ctx, b, "input 1")
    s_out, z_out = per_tensor_quant(ctx, out, "output")
    twice = 2.0 * max(s1, s2)
    real_out = twice * twice / float(np.float32((1 << 2 * LEFT_SHIFT) * np.float32(s_out)))
    if s_out <= 0.0 or (ctx.numerics is Numerics.TFLITE and not real_out < 1.0):
        raise ctx.unsupported(f"output rescale factor {real_out:.6g} must be below one")
    rounding = ELEMENTWISE_ROUNDING
    (m1, sh1), (m2, sh2), (mo, sho) = (quantize_multiplier(r, rounding) for r in (s1 / twice, s2 / twice, real_out))
    scaled = (_scaled_inputs(-z1, m1, sh1, int(rounding)), _scaled_inputs(-z2, m2, sh2, int(rounding)))
    table = _pair_table(scaled[0], scaled[1], mo, sho, z_out, int(rounding))
    return SquaredDifferenceParams(plan, (-z1, -z2), (m1, m2), (sh1, sh2), mo, sho, z_out, rounding, scaled, table)


@njit(cache=True)
def _scaled_inputs(offset, multiplier, shift, rounding):
    out = np.empty(256, np.int64)
    for i in range(256):
        out[i] = multiply_by_quantized_multiplier((i - 128 + offset) * (1 << LEFT_SHIFT), multiplier, shift, rounding)
    return out


@njit(cache=True)
def _pair_table(scaled1, scaled2, mo, sho, z_out, rounding):
    table = np.empty(256 * 256, np.int8)
    for i in range(256):
        x1 = scaled1[i]
        for j in range(256):
            diff = x1 - scaled2[j]
            value = multiply_by_quantized_multiplier(diff * diff, mo, sho, rounding) + z_out
            table[i * 256 + j] = min(max(value, -128), 127)
    return table


def reference(p: SquaredDifferenceParams, inputs) -> list[np.ndarray]:
    a, b = broadcast_int64(inputs[0], inputs[1])
    scaled = [
        multiply_by_quantized_multiplier_array((x + p.offsets[k]) * (1 << LEFT_SHIFT), p.multipliers[k], p.shifts[k],
                                               p.rounding)
        for k, x in enumerate((a, b))
    ]
    diff = scaled[0] - scaled[1]
    value = multiply_by_quantized_multiplier_array(diff * diff, p.output_multiplier, p.output_shift, p.rounding)
    return [np.clip(value + p.output_offset, -128, 127).astype(np.int8)]


def kernel(p: SquaredDifferenceParams, inputs, outputs) -> None:
    run_lookup2d(p.plan, p.table, inputs[0], inputs[1], outputs[0])


def c_emit(p: SquaredDifferenceParams, ctx: OpContext) -> CCall:
    """The two per-value tables of rescaled inputs (1 KB each), not the 64 KB pair table."""
    return CCall(
        module="squared_difference", function="edg_squared_difference_s8",
        params_type="edg_squared_difference_params_t",
        fields={
            "bc": c_broadcast(ctx), "output_multiplier": p.output_multiplier, "output_shift": p.output_shift,
            "output_offset": p.output_offset, "rounding": int(p.rounding),
            "scaled1": c_int32_table(ctx, p.scaled[0]), "scaled2": c_int32_table(ctx, p.scaled[1]),
        },
    )


SPEC = OpSpec(name="SQUARED_DIFFERENCE", prepare=prepare, reference=reference, kernel=kernel,
              inplace=inplace_over_full_inputs, c_emit=c_emit)
