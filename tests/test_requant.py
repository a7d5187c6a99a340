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
