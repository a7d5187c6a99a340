"""SQUARED_DIFFERENCE: int8, with broadcasting.

Like SUB, each input is shifted left (by 7 bits here) and rescaled to twice the larger input scale;
the difference is squared and requantized. TFLite requires the output multiplier to be below one;
TFLite Micro accepts any. The kernel is one table of all 256 x 256 results.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from edgeml.ir.dtypes import DType
from edgeml.ops.base import Numerics, OpContext, OpSpec
from edgeml.ops.elementwise import (
    ELEMENTWISE_ROUNDING,
    BroadcastPlan,
    broadcast_int64,
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
    table: np.ndarray


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
    table = _pair_table(-z1, -z2, m1, sh1, m2, sh2, mo, sho, z_out, int(rounding))
    return SquaredDifferenceParams(plan, (-z1, -z2), (m1, m2), (sh1, sh2), mo, sho, z_out, rounding, table)


@njit(cache=True)
def _pair_table(offset1, offset2, m1, sh1, m2, sh2, mo, sho, z_out, rounding):
    table = np.empty(256 * 256, np.int8)
    for i in range(256):
        x1 = multiply_by_quantized_multiplier((i - 128 + offset1) * (1 << LEFT_SHIFT), m1, sh1, rounding)
        for j in range(256):
            x2 = multiply_by_quantized_multiplier((j - 128 + offset2) * (1 << LEFT_SHIFT), m2, sh2, rounding)
            diff = x1 - x2
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


SPEC = OpSpec(name="SQUARED_DIFFERENCE", prepare=prepare, reference=reference, kernel=kernel,
              inplace=inplace_over_full_inputs)
