"""Shared pieces of the element-wise ops: broadcast plans, per-tensor quantization, rounding.

Rounding: ai-edge-litert is built with TFLITE_SINGLE_ROUNDING=0 (LiteRT's default), and its
element-wise kernels (ADD, SUB, MUL, SQUARED_DIFFERENCE, LEAKY_RELU, RSQRT, QUANTIZE) were measured
to round twice over every input pair, exactly like TensorFlow Lite Micro. So these ops use
ELEMENTWISE_ROUNDING for both numerics; where the references differ it is in how they derive the
multipliers (float32 or double), which each op handles.

Broadcasting: the output is walked as `runs` contiguous runs of `run_length` elements. Within a run each operand
either advances with the output (step 1) or repeats one element (step 0); each run starts at a
precomputed offset in each operand. Same-shape operands are one run; [N, H, W, C] + [C] is N*H*W
runs of C with the second operand restarting at 0; a scalar operand has step 0 throughout.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from edgeml.codegen.c_values import CArray
from edgeml.ir.graph import Tensor
from edgeml.ops.base import OpContext
from edgeml.ops.common import require_dtype, require_quant
from edgeml.quant.requant import Rounding

ELEMENTWISE_ROUNDING = Rounding.DOUBLE


@dataclass(frozen=True, eq=False)
class BroadcastPlan:
    output_shape: tuple[int, ...]
    run_length: int
    a_step: int
    b_step: int
    a_starts: np.ndarray  # (runs,) int64
    b_starts: np.ndarray  # (runs,) int64


def broadcast_shape(a_shape: tuple[int, ...], b_shape: tuple[int, ...]) -> tuple[int, ...] | None:
    """numpy's (and TFLite's) broadcast of two shapes, or None when they are incompatible."""
    try:
        return tuple(int(d) for d in np.broadcast_shapes(tuple(a_shape), tuple(b_shape)))
    except ValueError:
        return None


def _strides(shape: tuple[int, ...], out_shape: tuple[int, ...]) -> list[int]:
    """Element strides of a row-major operand padded to the output's rank; 0 along broadcast dims."""
    padded = (1,) * (len(out_shape) - len(shape)) + tuple(shape)
    strides, step = [], 1
    for size, out_size in zip(reversed(padded), reversed(out_shape), strict=True):
        strides.append(step if size == out_size else 0)
        step *= size
    return strides[::-1]


def merged_dims(a_shape: tuple[int, ...], b_shape: tuple[int, ...],
                out_shape: tuple[int, ...]) -> list[tuple[int, int, int]]:
    """(size, a stride, b stride) of the output's dimensions, outermost first, after merging neighbours
    that both operands walk contiguously (or both repeat); at least one."""
    a_strides, b_strides = _strides(a_shape, out_shape), _strides(b_shape, out_shape)
    dims: list[tuple[int, int, int]] = []
    for size, sa, sb in zip(out_shape, a_strides, b_strides, strict=True):
        if size == 1:
            continue
        if dims and dims[-1][1] == sa * size and dims[-1][2] == sb * size:
            prev = dims.pop()
            dims.append((prev[0] * size, sa, sb))
        else:
            dims.append((size, sa, sb))
    return dims or [(1, 1, 1)]


def plan_broadcast(a_shape: tuple[int, ...], b_shape: tuple[int, ...], out_shape: tuple[int, ...]) -> BroadcastPlan:
    dims = merged_dims(a_shape, b_shape, out_shape)
    run_length, a_step, b_step = dims[-1]
    a_starts = np.zeros(1, np.int64)
    b_starts = np.zeros(1, np.int64)
    for size, sa, sb in dims[:-1]:
        index = np.arange(size, dtype=np.int64)
        a_starts = (a_starts[:, None] + index[None, :] * sa).reshape(-1)
        b_starts = (b_starts[:, None] + index[None, :] * sb).reshape(-1)
    return BroadcastPlan(tuple(out_shape), run_length, a_step, b_step, a_starts, b_starts)


@njit(cache=True)
def lookup2d_int8(a, b, table, a_starts, b_starts, run_length, a_step, b_step, out):
    """out[k] = table[(a + 128) * 256 + (b + 128)] over the planned runs (flat int8 arrays)."""
    for r in range(a_starts.shape[0]):
        a0, b0, o0 = a_starts[r], b_starts[r], r * run_length
        for i in range(run_length):
            out[o0 + i] = table[(np.int64(a[a0 + i * a_step]) + 128) * 256 + (np.int64(b[b0 + i * b_step]) + 128)]


def run_lookup2d(plan: BroadcastPlan, table: np.ndarray, a: np.ndarray, b: np.ndarray, out: np.ndarray) -> None:
    """A binary op over int8 operands as one table of every (a, b) pair's result."""
    lookup2d_int8(a.reshape(-1), b.reshape(-1), table, plan.a_starts, plan.b_starts, plan.run_length,
                  plan.a_step, plan.b_step, out.reshape(-1))


def broadcast_int64(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both operands widened to int64 and broadcast against each other (for the numpy references)."""
    wa, wb = np.broadcast_arrays(a.astype(np.int64), b.astype(np.int64))
    return wa, wb


def prepare_binary(ctx: OpContext, *dtypes) -> BroadcastPlan:
    """Check a two-input element-wise op's operands (same dtype, one of `dtypes`) and plan its broadcast."""
    a, b, out = ctx.input(0), ctx.input(1), ctx.output()
    require_dtype(ctx, a, "input 0", *dtypes)
    require_dtype(ctx, b, "input 1", a.dtype)
    shape = broadcast_shape(a.shape, b.shape)
    if shape is None:
        raise ctx.unsupported(f"input shapes {a.shape} and {b.shape} do not broadcast")
    if shape != tuple(out.shape):
        raise ctx.unsupported(f"inputs broadcast to {shape} but the output is {out.shape}")
    return plan_broadcast(a.shape, b.shape, shape)


def per_tensor_quant(ctx: OpContext, tensor: Tensor, role: str) -> tuple[float, int]:
    """(scale as the float32 TFLite stores, zero point) of a per-tensor quantized tensor."""
    quant = require_quant(ctx, tensor, role)
    if quant.scale.size != 1:
        raise ctx.unsupported(f"{role} tensor {tensor.name} is quantized per channel")
    return quant.single_scale, quant.single_zero_point


C_MAX_RANK = 6  # EDG_MAX_RANK in firmware/include/edg_model.h


def c_broadcast(ctx: OpContext) -> tuple:
    """The edg_broadcast_t initializer (firmware/kernels/edg_elementwise.h) of a two-input node."""
    dims = merged_dims(ctx.input(0).shape, ctx.input(1).shape, ctx.output().shape)
    if len(dims) > C_MAX_RANK:
        raise ctx.unsupported(f"the broadcast needs {len(dims)} dimensions; the C kernels walk at most {C_MAX_RANK}")
    if ctx.output().num_elements >= 1 << 31:
        raise ctx.unsupported("more than 2^31 elements")
    sizes, a_strides, b_strides = (tuple(int(d[k]) for d in dims) for k in range(3))
    return len(dims), sizes, a_strides, b_strides


def c_int32_table(ctx: OpContext, values: np.ndarray) -> CArray:
    """A table of int64 values the C kernel reads as int32 (refused when one does not fit)."""
    values = np.asarray(values, np.int64)
    if values.size and (values.min() < -(1 << 31) or values.max() >= 1 << 31):
        raise ctx.unsupported("an intermediate table value does not fit int32")
    return CArray(values, np.int32)


def inplace_over_full_inputs(ctx: OpContext) -> tuple[tuple[int, int], ...]:
    """Element-wise kernels read a[k], b[k] and then write out[k] in one flat pass, so the output
    may overwrite an input of its own shape and dtype (never a smaller, broadcast operand)."""
    out = ctx.output()
    return tuple((0, i) for i, t in enumerate(ctx.inputs[:2])
                 if t is not None and t.shape == out.shape and t.dtype is out.dtype)
