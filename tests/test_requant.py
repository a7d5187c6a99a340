"""Requantization: numba scalar, numpy vector and exact big-integer definitions agree."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from edgeml.quant.requant import (
    INT32_MAX,
    INT32_MIN,
    Rounding,
    multiply_by_quantized_multiplier,
    multiply_by_quantized_multiplier_array,
    multiply_by_quantized_multiplier_int64,
    multiply_by_quantized_multiplier_int64_array,
    quantize_multiplier,
)

int32s = st.integers(INT32_MIN, INT32_MAX)
multipliers = st.integers(1 << 30, INT32_MAX)  # normalised mantissas, as quantize_multiplier makes
shifts = st.integers(-31, 30)


def exact_single(x: int, m: int, shift: int) -> int:
    """round-half-up(x * m / 2^(31 - shift)) with exact rationals."""
    return math.floor(Fraction(x * m, 2 ** (31 - shift)) + Fraction(1, 2))


def exact_double(x: int, m: int, shift: int) -> int:
    """gemmlowp, step by step with Python integers: doubling high mul, then rounding divide."""
    a = x * 2 ** max(shift, 0)
    if a == m == INT32_MIN:
        high = INT32_MAX
    else:
        ab = a * m
        nudge = 2**30 if ab >= 0 else 1 - 2**30
        high = int(Fraction(ab + nudge, 2**31))  # int() truncates toward zero, like C division
    exponent = max(-shift, 0)
    if exponent == 0:
        return high
    # Round half away from zero.
    quotient = Fraction(high, 2**exponent)
    return math.floor(quotient + Fraction(1, 2)) if high >= 0 else -math.floor(-quotient + Fraction(1, 2))


@settings(max_examples=3000, deadline=None)
@given(int32s, multipliers, shifts)
def test_single_rounding_is_exact_round_half_up(x: int, m: int, shift: int) -> None:
    # Keep results in int32 range, as the kernels guarantee through their scales.
    if not INT32_MIN <= exact_single(x, m, shift) <= INT32_MAX:
        return
    expected = exact_single(x, m, shift)
    assert multiply_by_quantized_multiplier(x, m, shift, int(Rounding.SINGLE)) == expected
    assert int(multiply_by_quantized_multiplier_array(np.array([x]), m, shift, Rounding.SINGLE)[0]) == expected


@settings(max_examples=3000, deadline=None)
@given(int32s, multipliers, st.integers(-31, 0))
def test_double_rounding_matches_gemmlowp(x: int, m: int, shift: int) -> None:
    expected = exact_double(x, m, shift)
    assert multiply_by_quantized_multiplier(x, m, shift, int(Rounding.DOUBLE)) == expected
    assert int(multiply_by_quantized_multiplier_array(np.array([x]), m, shift, Rounding.DOUBLE)[0]) == expected


def test_double_rounding_differs_from_single_on_a_known_tie() -> None:
    # x*m/2^31 lands just below a .5 tie after the first rounding: the two references disagree.
    found = 0
    rng = np.random.default_rng(0)
    for _ in range(20000):
        x, m, s = int(rng.integers(-(1 << 20), 1 << 20)), int(rng.integers(1 << 30, INT32_MAX)), -int(
            rng.integers(1, 12))
        single = multiply_by_quantized_multiplier(x, m, s, 0)
        double = multiply_by_quantized_multiplier(x, m, s, 1)
        assert single - double in (-1, 0, 1)  # the two modes differ by at most one step, by design
        found += single != double
    assert found > 0


@settings(max_examples=2000, deadline=None)
@given(st.integers(-(1 << 47), (1 << 47) - 1), multipliers, st.integers(-31, 7))
def test_int64_form_scalar_matches_vector(x: int, m: int, shift: int) -> None:
    scalar = multiply_by_quantized_multiplier_int64(x, m, shift)
    vector = int(multiply_by_quantized_multiplier_int64_array(np.array([x]), m, shift)[0])
    reduced = (m + (1 << 15)) >> 16 if m < 0x7FFF0000 else 0x7FFF
    exact = math.floor(Fraction(x * reduced, 2 ** (15 - shift)) + Fraction(1, 2))
    assert scalar == vector == exact


@settings(max_examples=2000, deadline=None)
@given(st.floats(min_value=1e-12, max_value=1e6, allow_nan=False))
def test_quantize_multiplier_represents_the_real_value(real: float) -> None:
    for rounding in Rounding:
        m, shift = quantize_multiplier(real, rounding)
        if m == 0:
            assert real < 2.0**-31
            continue
        assert (1 << 30) <= m <= INT32_MAX
        if rounding is Rounding.SINGLE and shift == 30:
            continue  # saturated: single rounding cannot shift further left
        assert abs(m * 2.0 ** (shift - 31) - real) <= real * 2.0**-30


def _nearest_float32(value) -> np.float32:
    """The float32 nearest to an exact rational (ties to even), by comparing exact neighbours."""
    from fractions import Fraction

    guess = np.float32(float(value))
    candidates = [np.nextafter(guess, np.float32(-np.inf)), guess, np.nextafter(guess, np.float32(np.inf))]
    best = min(candidates, key=lambda c: (abs(Fraction(float(c)) - value),
                                          int(np.array(c, np.float32).view(np.int32)) & 1))
    return np.float32(best)


def test_fma32_rounds_once_like_a_fused_multiply_add() -> None:
    """fma32 (onnxruntime's FMA3 kernels) against exact rational arithmetic, including sums where the
    float64 result is inexact (near-cancellation, far-apart exponents)."""
    from fractions import Fraction

    from edgeml.quant.requant import fma32

    rng = np.random.default_rng(0)
    x = rng.standard_normal(3000).astype(np.float32)
    y = (rng.standard_normal(3000) * np.exp2(rng.integers(-30, 30, 3000))).astype(np.float32)
    z = np.concatenate([(-x[:1000] * y[:1000]).astype(np.float32),  # cancellation
                        (rng.standard_normal(2000) * np.exp2(rng.integers(-40, 40, 2000))).astype(np.float32)])
    # (1 + u)(1 - u + u^2) / 2 = 1/2 + u^3 / 2 with u = 2^-11: added to 2^23 the exact sum lies 2^-34 above
    # a float32 midpoint, which a float64 sum rounds onto (and then to even, downwards): a double
    # rounding that only a single rounding avoids.
    u = 2.0 ** -11
    x = np.append(x, np.float32(1 + u))
    y = np.append(y, np.float32((1 - u + u * u) / 2))
    z = np.append(z, np.float32(2.0 ** 23))
    got = fma32(x, y, z)
    assert got[-1] == np.float32(2.0 ** 23 + 1)
    for a, b, c, g in zip(x, y, z, got, strict=True):
        exact = Fraction(float(a)) * Fraction(float(b)) + Fraction(float(c))
        assert g == _nearest_float32(exact), (a, b, c)
