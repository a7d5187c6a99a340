"""GELU: int8, as TFLite computes it: a 256-entry table built from float32 math at prepare time.

For each input value q: x = s_in * (q - z_in) in float32; y = 0.5f * x * erfcf(x * -sqrt(1/2))
(or the tanh approximation); out = clamp(roundf(y * (1 / s_out)) + z_out). TFLite calls the C
library's erfcf / tanhf, which are not correctly rounded, so edgeml calls the same C functions
(edgeml.ops.lut.libm_float). TFLite Micro has no GELU kernel; edgeml uses the same table for both
numerics.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from edgeml.codegen.c_values import CCall
from edgeml.ir.dtypes import DType
from edgeml.ops.base import OpContext, OpSpec
from edgeml.ops.common import require_dtype
from edgeml.ops.elementwise import per_tensor_quant
from edgeml.ops.lut import c_lookup_s8, f32, float_lut_int8, float_reference_int8, libm_float, run_lookup

_SQRT1_2 = f32(-math.sqrt(0.5))  # static_cast<float>(-M_SQRT1_2)
_SQRT_2_OVER_PI = f32(2.0 / math.sqrt(math.pi) * math.sqrt(0.5))  # M_2_SQRTPI * M_SQRT1_2, as float


@dataclass(frozen=True)
class GeluAttrs:
    approximate: bool = False


@dataclass(frozen=True, eq=False)
class GeluParams:
    input_scale: float
    input_offset: int
    output_scale: float
    output_offset: int
    approximate: bool
    table: np.ndarray


def gelu_float(x: np.float32, approximate: bool) -> np.float32:
    """TFLite's GeluTransform / GeluTransformApproximate in float32, operation by operation."""
    half_x = f32(0.5) * x
    if approximate:
        tanh = libm_float("tanhf", math.tanh)
        inner = x + f32(f32(f32(0.044715) * x) * x) * x
        return half_x * (f32(1.0) + tanh(_SQRT_2_OVER_PI * inner))
    erfc = libm_float("erfcf", math.erfc)
    return half_x * erfc(x * _SQRT1_2)


def gelu_table(input_scale: float, input_offset: int, output_scale: float, output_offset: int,
               approximate: bool) -> np.ndarray:
    return float_lut_int8(input_scale, input_offset, output_scale, output_offset,
                          lambda x: gelu_float(x, approximate))


def prepare(ctx: OpContext) -> GeluParams:
    x, out = ctx.input(0), ctx.output()
    require_dtype(ctx, x, "input", DType.INT8)
    require_dtype(ctx, out, "output", DType.INT8)
    (s_in, z_in), (s_out, z_out) = per_tensor_quant(ctx, x, "input"), per_tensor_quant(ctx, out, "output")
    if s_out <= 0.0:
        raise ctx.unsupported("output scale is zero")
    approximate = (ctx.attrs or GeluAttrs()).approximate
    return GeluParams(s_in, z_in, s_out, z_out, approximate, gelu_table(s_in, z_in, s_out, z_out, approximate))


def reference(p: GeluParams, inputs) -> list[np.ndarray]:
    # Element by element through the float math itself, not the table.
    return [float_reference_int8(inputs[0], p.input_scale, p.input_offset, p.output_scale, p.output_offset,
                                 lambda x: gelu_float(x, p.approximate))]


def kernel(p: GeluParams, inputs, outputs) -> None:
    run_lookup(p.table, inputs[0], outputs[0])


def c_emit(p: GeluParams, ctx: OpContext) -> CCall:
    return c_lookup_s8(ctx, "gelu", p.table)


SPEC = OpSpec(name="GELU", prepare=prepare, reference=reference, kernel=kernel, inplace=((0, 0),), c_emit=c_emit)
