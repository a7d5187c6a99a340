"""TFLite's 513-entry int16 lookup tables with linear interpolation (LUTPopulateInt16 / LUTLookup).

The table samples a function at 512 steps over the input range, corrected by half the error of
the interpolated midpoint. TFLite computes it in float32 or, in some older callers, float64
(`float_type`); every operation here is done in that type, step by step, so the tables match bit
for bit. The function must be given in the same type (e.g. the C library's expf for float32).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numba import njit

LUT_INT16_SIZE = 513
_INT16_MIN, _INT16_MAX = -32768, 32767


def round_half_away(x, float_type):
    """std::round in `float_type`: halves away from zero, computed without a lossy x + 0.5."""
    truncated = float_type(np.trunc(x))
    if abs(float_type(x - truncated)) >= float_type(0.5):
        truncated = float_type(truncated + (1 if x > 0 else -1))
    return truncated


def lut_populate_int16(input_scale: float, input_zero_point: int, output_scale: float, output_zero_point: int,
                       transform: Callable, float_type: type = np.float32) -> np.ndarray:
    """The 513 int16 entries of LUTPopulateInt16<float_type>(transform)."""
    t = float_type
    with np.errstate(over="ignore", under="ignore", invalid="ignore", divide="ignore"):
        input_min = t(t(input_scale) * t(_INT16_MIN - input_zero_point))
        input_max = t(t(input_scale) * t(_INT16_MAX - input_zero_point))
        output_min = t(t(output_scale) * t(_INT16_MIN - output_zero_point))
        output_max = t(t(output_scale) * t(_INT16_MAX - output_zero_point))
        steps = LUT_INT16_SIZE - 1
        step = t(t(input_max - input_min) / t(steps))
        half_step = t(step / t(2))
        scaling_inv = t(t(_INT16_MAX - _INT16_MIN + 1) / t(output_max - output_min))
        lut = np.empty(LUT_INT16_SIZE, np.int16)
        for i in range(steps):
            at = t(input_min + t(t(i) * step))
            val = t(transform(at))
            val_midpoint = t(transform(t(at + half_step)))
            val_next = t(transform(t(input_min + t(t(i + 1) * step))))
            sample_val = round_half_away(t(val * scaling_inv), t)
            midpoint_interp_val = round_half_away(t(t(t(val_next * scaling_inv) + sample_val) / t(2)), t)
            midpoint_val = round_half_away(t(val_midpoint * scaling_inv), t)
            bias = round_half_away(t(t(midpoint_interp_val - midpoint_val) / t(2)), t)
            lut[i] = int(min(max(t(sample_val - bias), t(_INT16_MIN)), t(_INT16_MAX)))
        last = round_half_away(t(t(transform(input_max)) * scaling_inv), t)
        lut[steps] = int(min(max(last, t(_INT16_MIN)), t(_INT16_MAX)))
    return lut


@njit(cache=True, inline="always")
def lut_lookup_int16(value: int, lut) -> int:
    """LUTLookup: the top 9 bits pick the entry, the low 7 interpolate towards the next one."""
    index = 256 + (value >> 7)
    offset = value & 0x7F
    base = np.int64(lut[index])
    slope = np.int64(lut[index + 1]) - base
    return base + ((slope * offset + 64) >> 7)
