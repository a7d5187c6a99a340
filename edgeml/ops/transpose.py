"""TRANSPOSE: permute the axes of an integer tensor (pure data movement, any rank up to 6)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from edgeml.codegen.c_values import CCall
from edgeml.codegen.c_walk import contiguous_strides, walk
from edgeml.ir.dtypes import DType
from edgeml.ops.base import ALL_NUMERICS, OpContext, OpSpec
from edgeml.ops.common import require_dtype

MAX_RANK = 6


@dataclass(frozen=True)
class TransposeParams:
    perm: tuple[int, ...]
    output_shape: tuple[int, ...]


def prepare(ctx: OpContext) -> TransposeParams:
    x, out = ctx.input(0), ctx.output()
    # float32 only where no C kernel is needed: an ONNX model's float input transposed before its
    # QuantizeLinear (onnxruntime's quantizer leaves such a Transpose in float).
    floats = (DType.FLOAT32,) if ctx.numerics.is_onnx else ()
    require_dtype(ctx, x, "input", DType.INT8, DType.INT16, DType.INT32, *floats)
    require_dtype(ctx, out, "output", x.dtype)
    rank = len(x.shape)
    if rank > MAX_RANK:
        raise ctx.unsupported(f"rank {rank} exceeds {MAX_RANK}")
    perm_values = ctx.constant(1).reshape(-1)
    if perm_values.size != rank:
        raise ctx.unsupported(f"permutation of {perm_values.size} entries for a rank-{rank} input")
    perm = tuple(int(v) + rank if v < 0 else int(v) for v in perm_values)
    if sorted(perm) != list(range(rank)):
        raise ctx.unsupported(f"{perm_values.tolist()} is not a permutation of {rank} axes")
    expected = tuple(x.shape[a] for a in perm)
    if expected != out.shape:
        raise ctx.unsupported(f"output shape {out.shape} disagrees with the permutation ({expected})")
    _check_same_quant(ctx)
    return TransposeParams(perm, out.shape)


def _check_same_quant(ctx: OpContext) -> None:
    in_q, out_q = ctx.input(0).quant, ctx.output().quant
    if in_q is not None and out_q is not None and (
            in_q.single_zero_point != out_q.single_zero_point
            or np.float32(in_q.single_scale) != np.float32(out_q.single_scale)):
        raise ctx.unsupported("input and output quantization differ (transpose does not requantize)")


def reference(p: TransposeParams, inputs) -> list[np.ndarray]:
    x = inputs[0]
    out = np.empty(p.output_shape, x.dtype)
    for index in itertools.product(*(range(d) for d in p.output_shape)):
        source = [0] * len(p.perm)
        for out_axis, in_axis in enumerate(p.perm):
            source[in_axis] = index[out_axis]
        out[index] = x[tuple(source)]
    return [out]


def kernel(p: TransposeParams, inputs, outputs) -> None:
    np.copyto(outputs[0], inputs[0].transpose(p.perm))


def c_emit(p: TransposeParams, ctx: OpContext) -> CCall:
    x = ctx.input(0)
    in_strides = contiguous_strides(x.shape)
    steps = walk(p.output_shape, [in_strides[a] for a in p.perm], contiguous_strides(p.output_shape))
    return CCall("tensor_copy", "edg_tensor_copy", "edg_tensor_copy_params_t",
                 {"walk": steps, "elem_bytes": x.dtype.np.itemsize})


SPEC = OpSpec(name="TRANSPOSE", prepare=prepare, reference=reference, kernel=kernel,
              c_emit=c_emit, numerics=ALL_NUMERICS, c_numerics=ALL_NUMERICS)
