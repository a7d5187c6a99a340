"""The single definition of integer requantization (multiplier, shift, rounding).

Two rounding modes exist in the references edgeml reproduces:

* SINGLE: one rounding step, (x * m + 2^(n-1)) >> n (TFLITE_SINGLE_ROUNDING).
* DOUBLE: gemmlowp's SaturatingRoundingDoublingHighMul followed by RoundingDivideByPOT, two
  rounding steps.

Which one a reference uses is a property of the reference *and the op*, measured op by op against
the installed runtimes: TensorFlow Lite Micro rounds twice everywhere; ai-edge-litert's reference
kernels round once in FULLY_CONNECTED (Numerics.rounding) but twice in convolutions, element-wise
ops, MEAN and BATCH_MATMUL (conv_common.CONV_ROUNDING, elementwise.ELEMENTWISE_ROUNDING,
mean.MEAN_ROUNDING, batch_matmul.BATCH_MATMUL_ROUNDING).

The rounding mode is data (an int passed to kernels), never a build flag. Scalar helpers are numba
functions usable inside kernels and from Python; the `*_array` forms are their vectorised numpy twins
used by the slow references. Tests check the two forms against each other over the int32 range.
"""

from __future__ import annotations

import enum
import math

import numpy as np
from numba import njit

INT32_MIN = -(1 << 31)
INT32_MAX = (1 << 31) - 1


class Rounding(enum.IntEnum):
    SINGLE = 0
    DOUBLE = 1
    # onnxruntime's float32 requantization; in C the multiplier then carries the scale's float32 bits
    # (float32_bits below, EDG_ROUND_FLOAT32 in firmware/include/edg_requant.h).
    FLOAT32 = 2


def quantize_multiplier(real_multiplier: float, rounding: Rounding) -> tuple[int, int]:
    """Split a positive real multiplier into (int32 mantissa with its point at bit 31, shift)."""
    if real_multiplier == 0.0:
        return 0, 0
    if real_multiplier < 0.0:
        raise ValueError(f"negative requantization multiplier {real_multiplier}")
    mantissa, shift = math.frexp(real_multiplier)
    q_fixed = _round_half_away(mantissa * (1 << 31))
    if q_fixed == 1 << 31:
        q_fixed //= 2
        shift += 1
    if shift < -31:
        return 0, 0
    if rounding is Rounding.SINGLE and shift > 30:
        return INT32_MAX, 30
    return int(q_fixed), int(shift)


def quantize_multipliers(real_multipliers: np.ndarray, rounding: Rounding) -> tuple[np.ndarray, np.ndarray]:
    pairs = [quantize_multiplier(float(m), rounding) for m in np.asarray(real_multipliers).reshape(-1)]
    mult = np.array([p[0] for p in pairs], dtype=np.int64)
    shift = np.array([p[1] for p in pairs], dtype=np.int64)
    return mult, shift


def quantize_multiplier_smaller_than_one_exp(real_multiplier: float, rounding: Rounding) -> tuple[int, int]:
    """TFLite's QuantizeMultiplierSmallerThanOneExp: the same split, for multipliers below one."""
    if not 0.0 < real_multiplier < 1.0:
        raise ValueError(f"multiplier {real_multiplier} is not in (0, 1)")
    mult, shift = quantize_multiplier(real_multiplier, rounding)
    return mult, shift


def _round_half_away(x: float) -> int:
    return math.floor(x + 0.5) if x >= 0 else -math.floor(-x + 0.5)


@njit(cache=True, inline="always")
def saturating_rounding_doubling_high_mul(a: int, b: int) -> int:
    if a == INT32_MIN and b == INT32_MIN:
        return INT32_MAX
    ab = np.int64(a) * np.int64(b)
    nudge = (1 << 30) if ab >= 0 else (1 - (1 << 30))
    t = ab + nudge
    # C integer division truncates toward zero.
    if t >= 0:
        return t // (1 << 31)
    return -((-t) // (1 << 31))


@njit(cache=True, inline="always")
def rounding_divide_by_pot(x: int, exponent: int) -> int:
    mask = (np.int64(1) << exponent) - 1
    remainder = x & mask
    threshold = (mask >> 1) + (1 if x < 0 else 0)
    return (x >> exponent) + (1 if remainder > threshold else 0)


@njit(cache=True, inline="always")
def multiply_by_quantized_multiplier(x: int, multiplier: int, shift: int, rounding: int) -> int:
    """x * multiplier * 2^(shift - 31), rounded as the chosen reference does (x in int32 range)."""
    if rounding == 0:
        total_shift = 31 - shift
        return (np.int64(x) * np.int64(multiplier) + (np.int64(1) << (total_shift - 1))) >> total_shift
    left = shift if shift > 0 else 0
    right = -shift if shift < 0 else 0
    return rounding_divide_by_pot(saturating_rounding_doubling_high_mul(x * (1 << left), multiplier), right)


@njit(cache=True, inline="always")
def multiply_by_quantized_multiplier_double_branchless(x: int, multiplier: int, shift: int) -> int:
    """multiply_by_quantized_multiplier(x, multiplier, shift, DOUBLE) without branches, so that loops
    over channels vectorise. Valid for 0 <= multiplier < 2^31 (all quantize_multiplier produces).

    SaturatingRoundingDoublingHighMul's truncating division of ab + nudge equals (ab + 2^30) >> 31
    for either sign of ab (the saturating case needs multiplier == INT32_MIN); RoundingDivideByPOT
    rounds half away from zero: add half, minus one for negative values, then shift.
    """
    left = max(shift, 0)
    right = max(-shift, 0)
    high = ((np.int64(x) << left) * np.int64(multiplier) + (np.int64(1) << 30)) >> 31
    half = (np.int64(1) << right) >> 1
    negative = np.int64(1) if high < 0 and right > 0 else np.int64(0)
    return (high + half - negative) >> right


@njit(cache=True, inline="always")
def multiply_by_quantized_multiplier_int64(x: int, multiplier: int, shift: int) -> int:
    """The 64-bit-accumulator form used by 16x8 kernels; identical in both references."""
    reduced = (multiplier + (1 << 15)) >> 16 if multiplier < 0x7FFF0000 else 0x7FFF
    total_shift = 15 - shift
    return (np.int64(x) * np.int64(reduced) + (np.int64(1) << (total_shift - 1))) >> total_shift


def multiply_by_quantized_multiplier_array(
    x: np.ndarray, multiplier: np.ndarray | int, shift: np.ndarray | int, rounding: Rounding
) -> np.ndarray:
    """Vectorised twin of multiply_by_quantized_multiplier over int64 arrays (broadcasting)."""
    x = np.asarray(x, dtype=np.int64)
    m = np.asarray(multiplier, dtype=np.int64)
    s = np.asarray(shift, dtype=np.int64)
    if rounding is Rounding.SINGLE:
        total = 31 - s
        return (x * m + (np.int64(1) << (total - 1))) >> total
    left = np.where(s > 0, s, 0)
    right = np.where(s < 0, -s, 0)
    a = x * (np.int64(1) << left)
    ab = a * m
    nudge = np.where(ab >= 0, np.int64(1 << 30), np.int64(1 - (1 << 30)))
    t = ab + nudge
    high = np.where(t >= 0, t // (1 << 31), -((-t) // (1 << 31)))
    high = np.where((a == INT32_MIN) & (m == INT32_MIN), INT32_MAX, high)
    mask = (np.int64(1) << right) - 1
    remainder = high & mask
    threshold = (mask >> 1) + (high < 0)
    return (high >> right) + (remainder > threshold)


def multiply_by_quantized_multiplier_int64_array(
    x: np.ndarray, multiplier: np.ndarray | int, shift: np.ndarray | int
) -> np.ndarray:
    x = np.asarray(x, dtype=np.int64)
    m = np.asarray(multiplier, dtype=np.int64)
    s = np.asarray(shift, dtype=np.int64)
    reduced = np.where(m < 0x7FFF0000, (m + (1 << 15)) >> 16, 0x7FFF)
    total = 15 - s
    return (x * reduced + (np.int64(1) << (total - 1))) >> total


# ---------------------------------------------------------------------------------------------
# onnxruntime's requantization (MLAS MlasRequantizeOutput, QuantizeLinear): float32 arithmetic and
# round half to even, the one definition edgeml uses for Numerics.ONNXRUNTIME. The scale is a
# float32 computed as ORT computes it: float32(float32(s_in * s_w) / s_out).


def float32_bits(scales: np.ndarray) -> np.ndarray:
    """The int32 bit patterns of float32 scales: how C kernels receive onnxruntime's requantization."""
    return np.ascontiguousarray(np.asarray(scales, np.float32)).view(np.int32).astype(np.int64)


def onnx_output_scale(input_scale: float, weight_scales: np.ndarray, output_scale: float) -> np.ndarray:
    """QLinearConv / QLinearMatMul's per-channel float32 output scale: (s_x * s_w) / s_y in float32."""
    product = np.float32(input_scale) * np.asarray(weight_scales, np.float32)
    return (product / np.float32(output_scale)).astype(np.float32)


def requantize_float32_array(acc: np.ndarray, scale: np.ndarray, zero_point: int, lo: int, hi: int) -> np.ndarray:
    """clamp(rint_half_even(float32(acc) * scale) + zero_point): acc int32 sums, bias already added."""
    wrapped = np.asarray(acc, np.int64).astype(np.int32)  # ORT adds the bias in int32
    scaled = wrapped.astype(np.float32) * np.asarray(scale, np.float32)
    return np.clip(np.rint(scaled).astype(np.int64) + zero_point, lo, hi)


@njit(cache=True)
def requantize_channels_float32(acc, bias, scale, out_zero_point, lo, hi, out):
    """The kernel twin of requantize_float32_array over (rows, channels); bias (channels,) or empty.

    float32 rounding of acc and of the product as in MLAS; np.rint rounds half to even, as the SSE
    conversion does. Clamping before the zero point is added keeps the values small.
    """
    rows, channels = acc.shape
    has_bias = bias.shape[0] > 0
    for r in range(rows):
        for c in range(channels):
            total = np.int64(acc[r, c]) + (bias[c] if has_bias else 0)
            wrapped = np.int32(total)
            value = np.float32(wrapped) * scale[c]
            rounded = np.int64(np.rint(value)) + out_zero_point
            out[r, c] = min(max(rounded, lo), hi)


def fma32(x: np.ndarray, y: np.ndarray, z: np.ndarray) -> np.ndarray:
    """float32 fused multiply-add, x * y + z rounded once (what FMA3's vfmadd computes).

    The float32 product is exact in float64; the float64 sum is made round-to-odd (TwoSum gives its
    exact error, an inexact even result moves one step toward it), and a round-to-odd value with 29
    extra bits rounds to float32 exactly as the infinitely precise sum would."""
    a = np.asarray(x, np.float32).astype(np.float64) * np.asarray(y, np.float32).astype(np.float64)
    b = np.asarray(z, np.float32).astype(np.float64)
    total = a + b
    b_part = total - a
    error = (a - (total - b_part)) + (b - b_part)
    even = (np.atleast_1d(total).view(np.int64) & 1) == 0
    nudge = (error != 0) & even.reshape(np.shape(total))
    total = np.where(nudge, np.nextafter(total, np.where(error > 0, np.inf, -np.inf)), total)
    return np.asarray(total).astype(np.float32)


def onnx_qlinear_add_constants(scales: tuple[float, float, float], zero_points: tuple[int, int, int],
                               value_offset: int) -> tuple[np.float32, np.float32, np.float32]:
    """(fixed, r_a, r_b) of onnx_qlinear_add, float32 as MLAS computes them (also the C kernel's fields)."""
    f32 = np.float32
    s_a, s_b, s_y = (f32(s) for s in scales)
    z_a, z_b, z_y = (f32(z + value_offset) for z in zero_points)
    r_a, r_b = s_a / s_y, s_b / s_y
    return f32(z_y - fma32(r_a, z_a, r_b * z_b)), f32(r_a), f32(r_b)


def onnx_qlinear_mul_ratio(scales: tuple[float, float, float]) -> np.float32:
    """QLinearMul's float32 (s_a * s_b) / s_y."""
    f32 = np.float32
    return f32((f32(scales[0]) * f32(scales[1])) / f32(scales[2]))


def onnx_qlinear_add(a: np.ndarray, b: np.ndarray, scales: tuple[float, float, float],
                     zero_points: tuple[int, int, int], value_offset: int, lo: int, hi: int,
                     a_scalar: bool = False) -> np.ndarray:
    """QLinearAdd as MLAS's AVX2 kernel computes it (the QDQ Add fusion runs the same kernel):
    ratios r_a = s_a / s_y and r_b = s_b / s_y in float32, fixed = z_y - fma(r_a, z_a, r_b * z_b), then
    y = rint(fma(a, r_a, fma(b, r_b, fixed))) on the stored values (value_offset maps edgeml's int8
    storage back to a uint8 model's values). When a is one value across onnxruntime's broadcast span
    (A_SCALAR), its term is folded into fixed first and b's added last; a scalar b already gives the
    general order (the compiler fuses its fold into an FMA too)."""
    f32 = np.float32
    fixed, r_a, r_b = onnx_qlinear_add_constants(scales, zero_points, value_offset)
    va = (np.asarray(a, np.int64) + value_offset).astype(f32)
    vb = (np.asarray(b, np.int64) + value_offset).astype(f32)
    value = fma32(vb, r_b, fma32(va, r_a, fixed)) if a_scalar else fma32(va, r_a, fma32(vb, r_b, fixed))
    return np.clip(np.rint(value).astype(np.int64) - value_offset, lo, hi)


def onnx_qlinear_mul(a: np.ndarray, b: np.ndarray, scales: tuple[float, float, float],
                     zero_points: tuple[int, int, int], value_offset: int, lo: int, hi: int) -> np.ndarray:
    """QLinearMul as MLAS computes it: rint(float32((a - z_a) * (b - z_b)) * ((s_a * s_b) / s_y) + z_y).
    The output zero point is added in float32 before rounding, so a uint8 model's zero point (edgeml
    storage + value_offset) is the one added."""
    f32 = np.float32
    ratio = onnx_qlinear_mul_ratio(scales)
    product = (np.asarray(a, np.int64) - zero_points[0]) * (np.asarray(b, np.int64) - zero_points[1])
    value = product.astype(f32) * ratio + f32(zero_points[2] + value_offset)
    return np.clip(np.rint(value).astype(np.int64) - value_offset, lo, hi)
