"""LEAKY_RELU: int8 and int16 (zero points of 0).

Non-negative inputs are requantized by s_in / s_out, negative ones by s_in * alpha / s_out; both
references compute these multipliers in float32 and differ only in rounding. The kernel is a table
over every input value.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from edgeml.codegen.c_values import CCall
from edgeml.ir.dtypes import DType
from edgeml.ops.base import Numerics, OpContext, OpSpec
from edgeml.ops.common import dtype_limits, require_dtype
from edgeml.ops.elementwise import ELEMENTWISE_ROUNDING, per_tensor_quant
from edgeml.ops.lut import c_lookup_s8, input_values, run_lookup
from edgeml.quant.requant import (
    Rounding,
    multiply_by_quantized_multiplier,
    multiply_by_quantized_multiplier_array,
    quantize_multiplier,
)


@dataclass(frozen=True)
class LeakyReluAttrs:
    alpha: float = 0.2


@dataclass(frozen=True, eq=False)
class LeakyReluParams:
    input_offset: int
    output_offset: int
    identity: tuple[int, int]  # (multiplier, shift) for inputs >= zero point
    alpha: tuple[int, int]  # for inputs below it
    lo: int
    hi: int
    rounding: Rounding
    table: np.ndarray


def prepare(ctx: OpContext) -> LeakyReluParams:
    x, out = ctx.input(0), ctx.output()
    require_dtype(ctx, x, "input", DType.INT8, DType.INT16)
    require_dtype(ctx, out, "output", x.dtype)
    (s_in, z_in), (s_out, z_out) = per_tensor_quant(ctx, x, "input"), per_tensor_quant(ctx, out, "output")
    if x.dtype is DType.INT16 and (z_in, z_out) != (0, 0):
        raise ctx.unsupported("int16 tensors need zero points of 0")
    alpha = (ctx.attrs or LeakyReluAttrs()).alpha
    if alpha < 0.0:
        raise ctx.unsupported(f"negative alpha {alpha} is not supported")
    rounding = ELEMENTWISE_ROUNDING
    identity_real, alpha_real = _real_multipliers(ctx, s_in, s_out, alpha)
    identity = quantize_multiplier(identity_real, rounding)
    alpha_mq = quantize_multiplier(alpha_real, rounding)
    lo, hi = dtype_limits(out.dtype)
    table = _table(input_values(x.dtype.np), z_in, z_out, *identity, *alpha_mq, lo, hi, int(rounding)).astype(
        x.dtype.np)
    return LeakyReluParams(z_in, z_out, identity, alpha_mq, lo, hi, rounding, table)


def _real_multipliers(ctx: OpContext, s_in: float, s_out: float, alpha: float) -> tuple[float, float]:
    """(s_in / s_out, s_in * alpha / s_out): float32 arithmetic in TFLite, double in TFLite Micro."""
    if ctx.numerics is Numerics.TFLITE:
        f32 = np.float32
        return float(f32(s_in) / f32(s_out)), float(f32(s_in) * f32(alpha) / f32(s_out))
    return s_in / s_out, s_in * float(np.float32(alpha)) / s_out


@njit(cache=True)
def _table(values, input_offset, output_offset, m_identity, s_identity, m_alpha, s_alpha, lo, hi, rounding):
    out = np.empty(values.shape[0], np.int64)
    for k in range(values.shape[0]):
        x = values[k] - input_offset
        if x >= 0:
            scaled = multiply_by_quantized_multiplier(x, m_identity, s_identity, rounding)
        else:
            scaled = multiply_by_quantized_multiplier(x, m_alpha, s_alpha, rounding)
        out[k] = min(max(scaled + output_offset, lo), hi)
    return out


def reference(p: LeakyReluParams, inputs) -> list[np.ndarray]:
    x = inputs[0].astype(np.int64) - p.input_offset
    scaled = np.where(
        x >= 0,
        multiply_by_quantized_multiplier_array(x, p.identity[0], p.identity[1], p.rounding),
        multiply_by_quantized_multiplier_array(x, p.alpha[0], p.alpha[1], p.rounding),
    )
    return [np.clip(scaled + p.output_offset, p.lo, p.hi).astype(inputs[0].dtype)]


def kernel(p: LeakyReluParams, inputs, outputs) -> None:
    run_lookup(p.table, inputs[0], outputs[0])


def c_emit(p: LeakyReluParams, ctx: OpContext) -> CCall:
    """int8: the 256-entry table; int16: one requantization per element (its table is 128 KB)."""
    fields = {"input_offset": p.input_offset, "output_offset": p.output_offset,
              "identity_multiplier": p.identity[0], "identity_shift": p.identity[1],
              "alpha_multiplier": p.alpha[0], "alpha_shift": p.alpha[1], "lo": p.lo, "hi": p.hi,
              "rounding": int(p.rounding)}
    if ctx.input(0).dtype is DType.INT8:
        return c_lookup_s8(ctx, "leaky_relu", p.table, **fields)
    return CCall(module="leaky_relu", function="edg_leaky_relu_s16", params_type="edg_leaky_relu_params_t",
                 fields={"count": ctx.output().num_elements, **fields})


SPEC = OpSpec(name="LEAKY_RELU", prepare=prepare, reference=reference, kernel=kernel, inplace=((0, 0),),
              c_emit=c_emit)
