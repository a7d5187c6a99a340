"""DEQUANTIZE: int8 or int16 -> float32, per tensor.

Both references compute float32(double(scale) * (q - zero_point)); the kernel is a table of that
value for every input value. onnxruntime's float32(q - zero_point) * scale is the same number (the
double product is exact, so both are the one correctly rounded float32 product).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from edgeml.codegen.c_values import CArray, CCall, CFloat
from edgeml.ir.dtypes import DType
from edgeml.ops.base import ALL_NUMERICS, OpContext, OpSpec
from edgeml.ops.common import require_dtype
from edgeml.ops.elementwise import per_tensor_quant
from edgeml.ops.lut import input_values, run_lookup


@dataclass(frozen=True, eq=False)
class DequantizeParams:
    scale: float
    zero_point: int
    table: np.ndarray  # float32, one entry per input value


def prepare(ctx: OpContext) -> DequantizeParams:
    x, out = ctx.input(0), ctx.output()
    require_dtype(ctx, x, "input", DType.INT8, DType.INT16)
    require_dtype(ctx, out, "output", DType.FLOAT32)
    scale, zero_point = per_tensor_quant(ctx, x, "input")
    return DequantizeParams(scale, zero_point, _table(input_values(x.dtype.np), scale, zero_point))


@njit(cache=True)
def _table(values, scale, zero_point):
    out = np.empty(values.shape[0], np.float32)
    for k in range(values.shape[0]):
        out[k] = np.float32(scale * np.float64(values[k] - zero_point))
    return out


def reference(p: DequantizeParams, inputs) -> list[np.ndarray]:
    x = inputs[0].astype(np.int64) - p.zero_point
    with np.errstate(over="ignore"):  # beyond float32's range: infinity, as in the references
        return [(np.float64(p.scale) * x).astype(np.float32)]


def kernel(p: DequantizeParams, inputs, outputs) -> None:
    run_lookup(p.table, inputs[0], outputs[0])


def c_emit(p: DequantizeParams, ctx: OpContext) -> CCall:
    """int8: the 256-entry table; int16: one float32 multiplication per element, which equals the
    references' double product rounded to float32 only when that product is exact in double."""
    count = ctx.output().num_elements
    if ctx.input(0).dtype is DType.INT8:
        return CCall(module="dequantize", function="edg_dequantize_s8", params_type="edg_dequantize_params_t",
                     fields={"count": count, "table": CArray(p.table, np.float32)})
    if float(np.float32(p.scale)) != p.scale or abs(p.zero_point) > (1 << 24) - (1 << 15):
        raise ctx.unsupported("int16 input in C needs a float32 scale and |q - zero point| <= 2^24")
    return CCall(module="dequantize", function="edg_dequantize_s16", params_type="edg_dequantize_params_t",
                 fields={"count": count, "scale": CFloat(p.scale), "zero_point": p.zero_point})


SPEC = OpSpec(name="DEQUANTIZE", prepare=prepare, reference=reference, kernel=kernel, c_emit=c_emit,
              numerics=ALL_NUMERICS, c_numerics=ALL_NUMERICS)
