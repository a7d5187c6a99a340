"""PAD and PADV2: constant padding of int8 / int16 tensors (up to 5-D).

The pad value: PADV2's constant input; otherwise the output zero point (a quantized zero), except
that TFLite Micro pads int16 with a literal 0 whatever the zero point, and TFLite pads tensors
without quantization parameters with 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edgeml.codegen.c_values import CCall
from edgeml.codegen.c_walk import contiguous_strides, walk
from edgeml.ir.dtypes import DType
from edgeml.ops.base import ALL_NUMERICS, Numerics, OpContext, OpSpec
from edgeml.ops.common import require_dtype

MAX_RANK = 5


@dataclass(frozen=True)
class PadParams:
    before: tuple[int, ...]
    after: tuple[int, ...]
    pad_value: int
    output_shape: tuple[int, ...]


def prepare(ctx: OpContext) -> PadParams:
    x, out = ctx.input(0), ctx.output()
    require_dtype(ctx, x, "input", DType.INT8, DType.INT16)
    require_dtype(ctx, out, "output", x.dtype)
    rank = len(x.shape)
    if rank > MAX_RANK or x.num_elements == 0:
        raise ctx.unsupported(f"rank {rank} exceeds the references' {MAX_RANK}" if rank > MAX_RANK else "empty input")
    paddings = ctx.constant(1).astype(np.int64)
    if paddings.shape != (rank, 2):
        raise ctx.unsupported(f"paddings of shape {paddings.shape} for a rank-{rank} input")
    if np.any(paddings < 0):
        raise ctx.unsupported("negative paddings")
    expected = tuple(int(d + b + a) for d, (b, a) in zip(x.shape, paddings, strict=True))
    if expected != out.shape:
        raise ctx.unsupported(f"output shape {out.shape} disagrees with the paddings ({expected})")
    return PadParams(tuple(int(b) for b in paddings[:, 0]), tuple(int(a) for a in paddings[:, 1]),
                     _pad_value(ctx, x.dtype), out.shape)


def _pad_value(ctx: OpContext, dtype: DType) -> int:
    constant = ctx.optional_input(2)
    out_quant = ctx.output().quant
    if constant is not None:
        value = ctx.constant(2).reshape(-1)
        if value.size != 1 or constant.dtype is not dtype:
            raise ctx.unsupported("the pad value must be a scalar of the input's type")
        if out_quant is not None and constant.quant is not None and (
                constant.quant.single_zero_point != out_quant.single_zero_point
                or np.float32(constant.quant.single_scale) != np.float32(out_quant.single_scale)):
            raise ctx.unsupported("the pad value's quantization differs from the output's")
        return int(value[0])
    if out_quant is None or (ctx.numerics is Numerics.TFLM and dtype is DType.INT16):
        return 0
    lo, hi = np.iinfo(dtype.np).min, np.iinfo(dtype.np).max
    zero_point = out_quant.single_zero_point
    if not lo <= zero_point <= hi:
        raise ctx.unsupported(f"output zero point {zero_point} is outside the {dtype.value} range")
    return zero_point


def reference(p: PadParams, inputs) -> list[np.ndarray]:
    """Every output element looks up its source coordinate (output coordinate - leading pad)."""
    x = inputs[0]
    if not x.shape:
        return [x.copy()]
    source = np.indices(p.output_shape) - np.array(p.before).reshape(-1, *([1] * len(p.output_shape)))
    inside = np.ones(p.output_shape, bool)
    for axis, size in enumerate(x.shape):
        inside &= (source[axis] >= 0) & (source[axis] < size)
    clipped = tuple(np.clip(source[axis], 0, max(size - 1, 0)) for axis, size in enumerate(x.shape))
    return [np.where(inside, x[clipped], x.dtype.type(p.pad_value))]


def kernel(p: PadParams, inputs, outputs) -> None:
    x, out = inputs[0], outputs[0]
    # Fill only the border strips, then copy the interior: each output byte written once.
    interior = tuple(slice(b, b + d) for b, d in zip(p.before, x.shape, strict=True))
    for axis, (b, a) in enumerate(zip(p.before, p.after, strict=True)):
        head = interior[:axis]
        if b:
            out[(*head, slice(0, b))] = p.pad_value
        if a:
            out[(*head, slice(b + x.shape[axis], None))] = p.pad_value
    out[interior] = x


def c_emit(p: PadParams, ctx: OpContext) -> CCall:
    x = ctx.input(0)
    out_strides = contiguous_strides(p.output_shape)
    steps = walk(x.shape, contiguous_strides(x.shape), out_strides,
                 dst_offset=sum(b * s for b, s in zip(p.before, out_strides, strict=True)))
    bits = x.dtype.np.itemsize * 8
    return CCall("tensor_copy", f"edg_tensor_pad_s{bits}", "edg_tensor_copy_params_t",
                 {"walk": steps, "elem_bytes": bits // 8, "out_count": int(np.prod(p.output_shape)),
                  "pad_value": p.pad_value}, omit_inputs=(1, 2))


SPEC = OpSpec(name="PAD", prepare=prepare, reference=reference, kernel=kernel, c_emit=c_emit, numerics=ALL_NUMERICS,
              c_numerics=ALL_NUMERICS)
SPEC_V2 = OpSpec(name="PADV2", prepare=prepare, reference=reference, kernel=kernel, c_emit=c_emit,
                 numerics=ALL_NUMERICS, c_numerics=ALL_NUMERICS)
