"""RSQRT: int8.

Both references compute, per element, v = q - z_in; 1/sqrt(v) as a fixed-point multiplier
(GetInvSqrtQuantizedMultiplierExp, five Newton steps); that multiplier applied to 1 << 20; then the
result rescaled by 1 / (sqrt(s_in) * s_out) with the reference's rounding. v == 0 gives 127. Both
references refuse inputs below the zero point at run time; edgeml gives 127 for them too.
The kernel is a table over the 256 input values.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from edgeml.codegen.c_values import CCall
from edgeml.ir.dtypes import DType
from edgeml.ops.base import OpContext, OpSpec
from edgeml.ops.common import require_dtype
from edgeml.ops.elementwise import ELEMENTWISE_ROUNDING, per_tensor_quant
from edgeml.ops.lut import c_lookup_s8, input_values, run_lookup
from edgeml.quant.fixedpoint import get_inv_sqrt_quantized_multiplier_exp
from edgeml.quant.requant import Rounding, multiply_by_quantized_multiplier, quantize_multiplier

_SHIFT = 20  # keeps the intermediate 1/sqrt(v) an integer
_REVERSE_SHIFT = -1


@dataclass(frozen=True, eq=False)
class RsqrtParams:
    input_offset: int
    output_offset: int
    multiplier: int
    shift: int
    rounding: Rounding
    table: np.ndarray


def prepare(ctx: OpContext) -> RsqrtParams:
    x, out = ctx.input(0), ctx.output()
    require_dtype(ctx, x, "input", DType.INT8)
    require_dtype(ctx, out, "output", DType.INT8)
    (s_in, z_in), (s_out, z_out) = per_tensor_quant(ctx, x, "input"), per_tensor_quant(ctx, out, "output")
    f32 = np.float32
    denominator = float(f32(np.sqrt(f32(s_in))) * f32(s_out))
    if denominator <= 0.0:
        raise ctx.unsupported("zero input or output scale")
    rounding = ELEMENTWISE_ROUNDING
    multiplier, shift = quantize_multiplier(1.0 / denominator, rounding)
    if shift - _SHIFT < -32:
        raise ctx.unsupported(f"output rescale factor {1.0 / denominator:.6g} is too small")
    table = _table(input_values(np.dtype(np.int8)), z_in, z_out, multiplier, shift, int(rounding)).astype(np.int8)
    return RsqrtParams(z_in, z_out, multiplier, shift, rounding, table)


@njit(cache=True)
def rsqrt_one(q, input_offset, output_offset, multiplier, shift, rounding):
    value = q - input_offset
    if value <= 0:
        return 127
    inv_sqrt, inv_shift = get_inv_sqrt_quantized_multiplier_exp(value, _REVERSE_SHIFT)
    data = multiply_by_quantized_multiplier(1, inv_sqrt, inv_shift + _SHIFT, rounding)
    result = multiply_by_quantized_multiplier(data, multiplier, shift - _SHIFT, rounding) + output_offset
    return min(max(result, -128), 127)


@njit(cache=True)
def _table(values, input_offset, output_offset, multiplier, shift, rounding):
    out = np.empty(values.shape[0], np.int64)
    for k in range(values.shape[0]):
        out[k] = rsqrt_one(values[k], input_offset, output_offset, multiplier, shift, rounding)
    return out


def reference(p: RsqrtParams, inputs) -> list[np.ndarray]:
    x = inputs[0]
    flat = [rsqrt_one(int(q), p.input_offset, p.output_offset, p.multiplier, p.shift, int(p.rounding))
            for q in x.reshape(-1)]
    return [np.array(flat, dtype=np.int8).reshape(x.shape)]


def kernel(p: RsqrtParams, inputs, outputs) -> None:
    run_lookup(p.table, inputs[0], outputs[0])


def c_emit(p: RsqrtParams, ctx: OpContext) -> CCall:
    return c_lookup_s8(ctx, "rsqrt", p.table)


SPEC = OpSpec(name="RSQRT", prepare=prepare, reference=reference, kernel=kernel, inplace=((0, 0),), c_emit=c_emit)
