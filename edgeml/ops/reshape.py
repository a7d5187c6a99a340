"""RESHAPE, SQUEEZE, EXPAND_DIMS: the bytes stay, only the shape changes."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edgeml.codegen.c_values import CCall
from edgeml.ops.base import ALL_NUMERICS, OpContext, OpSpec


@dataclass(frozen=True)
class ReshapeParams:
    output_shape: tuple[int, ...]


def prepare(ctx: OpContext) -> ReshapeParams:
    x, out = ctx.input(0), ctx.output()
    if x.num_elements != out.num_elements:
        raise ctx.unsupported(f"cannot reshape {x.shape} to {out.shape}")
    if x.dtype is not out.dtype:
        raise ctx.unsupported(f"reshape changes dtype {x.dtype.value} -> {out.dtype.value}")
    if x.quant is not None and out.quant is not None and (
        x.quant.single_scale != out.quant.single_scale
        or x.quant.single_zero_point != out.quant.single_zero_point
    ):
        raise ctx.unsupported("reshape changes quantization parameters")
    return ReshapeParams(out.shape)


def reference(p: ReshapeParams, inputs) -> list[np.ndarray]:
    return [inputs[0].reshape(p.output_shape).copy()]


def kernel(p: ReshapeParams, inputs, outputs) -> None:
    src = inputs[0].reshape(-1)
    dst = outputs[0].reshape(-1)
    if not np.shares_memory(src, dst):
        dst[:] = src


def c_emit(_p: ReshapeParams, ctx: OpContext) -> CCall:
    return CCall("reshape", "edg_reshape_copy", "edg_reshape_params_t", {"bytes": ctx.output().nbytes})


SPEC = OpSpec(name="RESHAPE", prepare=prepare, reference=reference, kernel=kernel, alias=True,
              c_emit=c_emit, numerics=ALL_NUMERICS, c_numerics=ALL_NUMERICS)
