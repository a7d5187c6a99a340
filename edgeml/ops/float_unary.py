"""Float islands: one-input float32 ops the TFLite converter leaves inside int8 models.

NEG on float32 (Keras LayerNormalization's -mean * inv between DEQUANTIZE and QUANTIZE). Negation
is exact, so both references agree with it bit for bit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from edgeml.codegen.c_values import CCall
from edgeml.ir.dtypes import DType
from edgeml.ops.base import OpContext, OpSpec
from edgeml.ops.common import require_dtype


@dataclass(frozen=True)
class NegParams:
    pass


def prepare_neg(ctx: OpContext) -> NegParams:
    x, out = ctx.input(0), ctx.output()
    require_dtype(ctx, x, "input", DType.FLOAT32)
    require_dtype(ctx, out, "output", DType.FLOAT32)
    if x.shape != out.shape:
        raise ctx.unsupported(f"input shape {x.shape} differs from output shape {out.shape}")
    return NegParams()


@njit(cache=True)
def _negate(x, out):
    for i in range(x.shape[0]):
        out[i] = -x[i]


def reference_neg(_p: NegParams, inputs) -> list[np.ndarray]:
    return [np.negative(inputs[0])]


def kernel_neg(_p: NegParams, inputs, outputs) -> None:
    _negate(inputs[0].reshape(-1), outputs[0].reshape(-1))


def c_emit_neg(_p: NegParams, ctx: OpContext) -> CCall:
    return CCall(module="float_unary", function="edg_float_unary_neg_f32", params_type="edg_float_unary_params_t",
                 fields={"count": ctx.output().num_elements})


NEG_SPEC = OpSpec(name="NEG", prepare=prepare_neg, reference=reference_neg, kernel=kernel_neg, inplace=((0, 0),),
                  c_emit=c_emit_neg)
