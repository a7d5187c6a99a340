"""DEQUANTIZE: int8 or int16 -> float32, per tensor.

Both references compute float32(double(scale) * (q - zero_point)); the kernel is a table of that
value for every input value.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from edgeml.ir.dtypes import DType
from edgeml.ops.base import OpContext, OpSpec
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
    return [(np.float64(p.scale) * x).astype(np.float32)]


def kernel(p: DequantizeParams, inputs, outputs) -> None:
    run_lookup(p.table, inputs[0], outputs[0])


SPEC = OpSpec(name="DEQUANTIZE", prepare=prepare, reference=reference, kernel=kernel)
