"""Shared numba routine: int32 accumulators -> requantized, clamped outputs, per output channel.

Conv, depthwise conv and fully connected all end the same way; this is that one place.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from edgeml.quant.requant import (
    multiply_by_quantized_multiplier,
    multiply_by_quantized_multiplier_double_branchless,
    multiply_by_quantized_multiplier_int64,
)


def exact_matmul_dtype(max_abs_input: int, weights: np.ndarray) -> np.dtype:
    """The narrowest float type in which x @ weights is exact for integer x with |x| <= max_abs_input.

    weights: (depth, channels) integers. Every partial sum is bounded by max|x| * sum_k |w[k, c]|;
    float32 holds every integer up to 2^24 exactly, float64 up to 2^53. float32 BLAS is about twice
    as fast, and int8 layers of moderate depth fit in it.
    """
    bound = max_abs_input * int(np.abs(weights.astype(np.int64)).sum(axis=0).max(initial=0))
    if bound <= 1 << 24:
        return np.dtype(np.float32)
    if bound <= 1 << 53:
        return np.dtype(np.float64)
    raise ValueError(f"accumulator bound {bound} exceeds 2^53: no exact float matmul")


@njit(cache=True)
def requantize_channels(acc, bias, multiplier, shift, out_zero_point, lo, hi, rounding, out):
    """acc: (rows, channels) exact sums (float or int); bias: (channels,) int64 or empty.

    Writes clamp(MBQM(acc + bias) + zp) into out (rows, channels), channel c using multiplier[c].
    One branch-free loop per rounding mode and bias presence, so that LLVM vectorises the channels.
    """
    rows, channels = acc.shape
    has_bias = bias.shape[0] > 0
    for r in range(rows):
        if rounding == 0:
            for c in range(channels):
                total = np.int64(acc[r, c]) + (bias[c] if has_bias else 0)
                value = multiply_by_quantized_multiplier(total, multiplier[c], shift[c], 0) + out_zero_point
                out[r, c] = min(max(value, lo), hi)
        elif has_bias:
            for c in range(channels):
                total = np.int64(acc[r, c]) + bias[c]
                value = multiply_by_quantized_multiplier_double_branchless(total, multiplier[c], shift[c])
                out[r, c] = min(max(value + out_zero_point, lo), hi)
        else:
            for c in range(channels):
                value = multiply_by_quantized_multiplier_double_branchless(np.int64(acc[r, c]), multiplier[c],
                                                                           shift[c])
                out[r, c] = min(max(value + out_zero_point, lo), hi)


@njit(cache=True)
def requantize_channels_int64(acc, bias, multiplier, shift, out_zero_point, lo, hi, out):
    """The 16x8 form: 64-bit accumulators and the reduced-multiplier requantization."""
    rows, channels = acc.shape
    has_bias = bias.shape[0] > 0
    for r in range(rows):
        for c in range(channels):
            total = np.int64(acc[r, c])
            if has_bias:
                total += bias[c]
            value = multiply_by_quantized_multiplier_int64(total, multiplier[c], shift[c]) + out_zero_point
            out[r, c] = min(max(value, lo), hi)
