"""AVERAGE_POOL_2D and MAX_POOL_2D: int8 / int16 NHWC pooling.

Both references run the same integer code: the window is clipped to the input (padding never
counts), the average is the window sum divided by the clipped count rounding half away from zero
(C truncating division of sum +/- count/2), then the fused-activation clamp. Input and output
share their quantization, so no requantization happens.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from edgeml.codegen.c_values import CCall
from edgeml.ir.dtypes import DType
from edgeml.ops.base import ALL_NUMERICS, OpContext, OpSpec
from edgeml.ops.common import Activation, Padding, activation_range, compute_padding, require_dtype, require_quant


@dataclass(frozen=True)
class Pool2DAttrs:
    padding: Padding = Padding.SAME
    stride_w: int = 1
    stride_h: int = 1
    filter_w: int = 1
    filter_h: int = 1
    activation: Activation = Activation.NONE


@dataclass(frozen=True)
class Pool2DParams:
    filter_h: int
    filter_w: int
    stride_h: int
    stride_w: int
    pad_h: int  # leading padding (top / left)
    pad_w: int
    lo: int
    hi: int
    output_shape: tuple[int, ...]


def _windowed_size(in_size: int, filter_size: int, stride: int, padding: Padding) -> int:
    if padding is Padding.SAME:
        return (in_size + stride - 1) // stride
    return (in_size - filter_size + stride) // stride


def _window_always_overlaps(in_size: int, out_size: int, filter_size: int, stride: int, pad: int) -> bool:
    """False when some window lies wholly in the padding (TFLite fails on an empty average)."""
    return all(min(filter_size, in_size - (o * stride - pad)) > max(0, pad - o * stride) for o in range(out_size))


def prepare(ctx: OpContext) -> Pool2DParams:
    x, out, attrs = ctx.input(0), ctx.output(), ctx.attrs
    require_dtype(ctx, x, "input", DType.INT8, DType.INT16)
    require_dtype(ctx, out, "output", x.dtype)
    if len(x.shape) != 4 or len(out.shape) != 4:
        raise ctx.unsupported(f"pooling needs 4-D NHWC tensors, got {x.shape} -> {out.shape}")
    in_q, out_q = require_quant(ctx, x, "input"), require_quant(ctx, out, "output")
    if abs(in_q.single_scale - out_q.single_scale) > 1e-6 or in_q.single_zero_point != out_q.single_zero_point:
        raise ctx.unsupported("input and output quantization differ (pooling does not requantize)")
    if min(attrs.stride_h, attrs.stride_w, attrs.filter_h, attrs.filter_w) < 1:
        raise ctx.unsupported("strides and filter sizes must be positive")
    _, in_h, in_w, channels = x.shape
    out_h = _windowed_size(in_h, attrs.filter_h, attrs.stride_h, attrs.padding)
    out_w = _windowed_size(in_w, attrs.filter_w, attrs.stride_w, attrs.padding)
    if out.shape != (x.shape[0], out_h, out_w, channels):
        raise ctx.unsupported(f"output shape {out.shape} disagrees with the pooling geometry {(out_h, out_w)}")
    pad_h = compute_padding(attrs.stride_h, 1, in_h, attrs.filter_h, out_h, attrs.padding)
    pad_w = compute_padding(attrs.stride_w, 1, in_w, attrs.filter_w, out_w, attrs.padding)
    if not (_window_always_overlaps(in_h, out_h, attrs.filter_h, attrs.stride_h, pad_h)
            and _window_always_overlaps(in_w, out_w, attrs.filter_w, attrs.stride_w, pad_w)):
        raise ctx.unsupported("a pooling window lies entirely in the padding")
    lo, hi = activation_range(ctx, attrs.activation, out)
    return Pool2DParams(attrs.filter_h, attrs.filter_w, attrs.stride_h, attrs.stride_w, pad_h, pad_w, lo, hi,
                        out.shape)


def _windows(p: Pool2DParams, x: np.ndarray):
    """Yield (n, oy, ox, window) with each window clipped to the input, as the references do."""
    batches, in_h, in_w, _ = x.shape
    _, out_h, out_w, _ = p.output_shape
    for n in range(batches):
        for oy in range(out_h):
            y0 = oy * p.stride_h - p.pad_h
            for ox in range(out_w):
                x0 = ox * p.stride_w - p.pad_w
                window = x[n, max(y0, 0):min(y0 + p.filter_h, in_h), max(x0, 0):min(x0 + p.filter_w, in_w), :]
                yield n, oy, ox, window


def average_reference(p: Pool2DParams, inputs) -> list[np.ndarray]:
    x = inputs[0]
    out = np.empty(p.output_shape, x.dtype)
    for n, oy, ox, window in _windows(p, x):
        total = window.astype(np.int64).sum(axis=(0, 1))
        count = window.shape[0] * window.shape[1]
        # Round half away from zero with exact rationals: sign * floor((|total| + count//2) / count).
        mean = np.sign(total) * ((np.abs(total) + count // 2) // count)
        out[n, oy, ox] = np.clip(mean, p.lo, p.hi)
    return [out]


def max_reference(p: Pool2DParams, inputs) -> list[np.ndarray]:
    x = inputs[0]
    out = np.empty(p.output_shape, x.dtype)
    for n, oy, ox, window in _windows(p, x):
        out[n, oy, ox] = np.clip(window.max(axis=(0, 1)), p.lo, p.hi)
    return [out]


@njit(cache=True)
def _window_bounds(o, stride, pad, filter_size, in_size):
    origin = o * stride - pad
    return origin, max(0, -origin), min(filter_size, in_size - origin)


@njit(cache=True)
def average_pool(x, out, filter_h, filter_w, stride_h, stride_w, pad_h, pad_w, lo, hi):
    batches, in_h, in_w, channels = x.shape
    out_h, out_w = out.shape[1], out.shape[2]
    acc = np.zeros(channels, np.int64)
    for n in range(batches):
        for oy in range(out_h):
            y0, fy0, fy1 = _window_bounds(oy, stride_h, pad_h, filter_h, in_h)
            for ox in range(out_w):
                x0, fx0, fx1 = _window_bounds(ox, stride_w, pad_w, filter_w, in_w)
                acc[:] = 0
                for fy in range(fy0, fy1):
                    for fx in range(fx0, fx1):
                        for c in range(channels):
                            acc[c] += x[n, y0 + fy, x0 + fx, c]
                count = (fy1 - fy0) * (fx1 - fx0)
                half = count // 2
                for c in range(channels):
                    a = acc[c]
                    mean = (a + half) // count if a > 0 else -((half - a) // count)
                    out[n, oy, ox, c] = min(max(mean, lo), hi)


@njit(cache=True)
def max_pool(x, out, filter_h, filter_w, stride_h, stride_w, pad_h, pad_w, lo, hi, lowest):
    batches, in_h, in_w, channels = x.shape
    out_h, out_w = out.shape[1], out.shape[2]
    best = np.empty(channels, np.int64)
    for n in range(batches):
        for oy in range(out_h):
            y0, fy0, fy1 = _window_bounds(oy, stride_h, pad_h, filter_h, in_h)
            for ox in range(out_w):
                x0, fx0, fx1 = _window_bounds(ox, stride_w, pad_w, filter_w, in_w)
                best[:] = lowest
                for fy in range(fy0, fy1):
                    for fx in range(fx0, fx1):
                        for c in range(channels):
                            best[c] = max(best[c], x[n, y0 + fy, x0 + fx, c])
                for c in range(channels):
                    out[n, oy, ox, c] = min(max(best[c], lo), hi)


def average_kernel(p: Pool2DParams, inputs, outputs) -> None:
    average_pool(inputs[0], outputs[0], p.filter_h, p.filter_w, p.stride_h, p.stride_w, p.pad_h, p.pad_w,
                 p.lo, p.hi)


def max_kernel(p: Pool2DParams, inputs, outputs) -> None:
    max_pool(inputs[0], outputs[0], p.filter_h, p.filter_w, p.stride_h, p.stride_w, p.pad_h, p.pad_w,
             p.lo, p.hi, int(np.iinfo(inputs[0].dtype).min))


def macs(ctx: OpContext) -> int:
    return ctx.output().num_elements * ctx.attrs.filter_h * ctx.attrs.filter_w


def _c_emit(reduction: str):
    def c_emit(p: Pool2DParams, ctx: OpContext) -> CCall:
        x = ctx.input(0)
        batches, in_h, in_w, channels = x.shape
        return CCall("pool2d", f"edg_pool2d_{reduction}_s{x.dtype.np.itemsize * 8}", "edg_pool2d_params_t",
                     {"batches": batches, "in_h": in_h, "in_w": in_w, "channels": channels,
                      "out_h": p.output_shape[1], "out_w": p.output_shape[2], "filter_h": p.filter_h,
                      "filter_w": p.filter_w, "stride_h": p.stride_h, "stride_w": p.stride_w, "pad_h": p.pad_h,
                      "pad_w": p.pad_w, "lo": p.lo, "hi": p.hi})

    return c_emit


AVERAGE_SPEC = OpSpec(name="AVERAGE_POOL_2D", prepare=prepare, reference=average_reference, kernel=average_kernel,
                      macs=macs, c_emit=_c_emit("average"))
MAX_SPEC = OpSpec(name="MAX_POOL_2D", prepare=prepare, reference=max_reference, kernel=max_kernel, macs=macs,
                  c_emit=_c_emit("max"), numerics=ALL_NUMERICS, c_numerics=ALL_NUMERICS)
