"""CONCATENATION of int8 / int16 / int32 tensors along one axis.

Both references copy bytes: they require every int8 input to share the output's scale and zero
point (int16: zero points 0) and never requantize, so neither does edgeml.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edgeml.codegen.c_values import CArray, CCall
from edgeml.ir.dtypes import DType
from edgeml.ops.base import OpContext, OpSpec
from edgeml.ops.common import Activation, require_dtype


@dataclass(frozen=True)
class ConcatenationAttrs:
    axis: int = 0
    activation: Activation = Activation.NONE


@dataclass(frozen=True)
class ConcatenationParams:
    axis: int
    output_shape: tuple[int, ...]


def prepare(ctx: OpContext) -> ConcatenationParams:
    out, attrs = ctx.output(), ctx.attrs
    require_dtype(ctx, out, "output", DType.INT8, DType.INT16, DType.INT32)
    if attrs.activation is not Activation.NONE:
        raise ctx.unsupported(f"fused activation {attrs.activation.name} on an integer concatenation")
    rank = len(out.shape)
    axis = attrs.axis + rank if attrs.axis < 0 else attrs.axis
    if not 0 <= axis < rank:
        raise ctx.unsupported(f"axis {attrs.axis} is out of range for rank {rank}")
    inputs = [ctx.input(i) for i in range(len(ctx.node.inputs))]
    for k, x in enumerate(inputs):
        require_dtype(ctx, x, f"input {k}", out.dtype)
        if len(x.shape) != rank or x.shape[:axis] + x.shape[axis + 1:] != out.shape[:axis] + out.shape[axis + 1:]:
            raise ctx.unsupported(f"input {k} of shape {x.shape} does not fit output {out.shape} along axis {axis}")
        _check_same_quant(ctx, k, x, out)
    if sum(x.shape[axis] for x in inputs) != out.shape[axis]:
        raise ctx.unsupported(f"inputs do not add up to the output's {out.shape[axis]} along axis {axis}")
    return ConcatenationParams(axis, out.shape)


def _check_same_quant(ctx: OpContext, k: int, x, out) -> None:
    if x.quant is None or out.quant is None:
        return
    if (np.float32(x.quant.single_scale) != np.float32(out.quant.single_scale)
            or x.quant.single_zero_point != out.quant.single_zero_point):
        raise ctx.unsupported(f"input {k} is quantized differently from the output (no requantizing concatenation)")


def reference(p: ConcatenationParams, inputs) -> list[np.ndarray]:
    out = np.empty(p.output_shape, inputs[0].dtype)
    start = 0
    for x in inputs:
        for i in range(x.shape[p.axis]):
            index = [slice(None)] * len(p.output_shape)
            index[p.axis] = start + i
            source = [slice(None)] * len(p.output_shape)
            source[p.axis] = i
            out[tuple(index)] = x[tuple(source)]
        start += x.shape[p.axis]
    return [out]


def kernel(p: ConcatenationParams, inputs, outputs) -> None:
    np.concatenate(inputs, axis=p.axis, out=outputs[0])


def c_emit(p: ConcatenationParams, ctx: OpContext) -> CCall:
    inputs = [ctx.input(i) for i in range(len(ctx.node.inputs))]
    outer = int(np.prod(p.output_shape[:p.axis], dtype=np.int64))
    inner = [x.nbytes // max(outer, 1) for x in inputs]
    return CCall("concatenation", "edg_concatenation", "edg_concatenation_params_t",
                 {"inputs": len(inputs), "outer": outer, "inner_bytes": CArray(np.array(inner), np.int32)})


SPEC = OpSpec(name="CONCATENATION", prepare=prepare, reference=reference, kernel=kernel, c_emit=c_emit)
