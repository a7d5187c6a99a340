"""gemmlowp-style fixed-point primitives shared by the nonlinear integer kernels.

Values are raw int32 fixed-point numbers carried in Python / numba ints (int64), in the gemmlowp
notation Q(m).(31-m): `integer_bits` is m. Every helper reproduces gemmlowp's scalar int32 code,
including its rounding and saturation, and is a numba function callable from Python too.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from edgeml.quant.requant import INT32_MAX, INT32_MIN, rounding_divide_by_pot, saturating_rounding_doubling_high_mul

_UINT32_MASK = 0xFFFFFFFF


@njit(cache=True, inline="always")
def wrap_int32(x: int) -> int:
    """Two's-complement wrap into int32, as a C cast from a wider or unsigned type does."""
    x &= _UINT32_MASK
    return x - (1 << 32) if x >= (1 << 31) else x


@njit(cache=True, inline="always")
def count_leading_zeros32(x: int) -> int:
    """Leading zero bits of x read as uint32 (32 for zero)."""
    x &= _UINT32_MASK
    if x == 0:
        return 32
    n = 0
    while x < (1 << 31):
        x <<= 1
        n += 1
    return n


@njit(cache=True, inline="always")
def saturating_rounding_multiply_by_pot(x: int, exponent: int) -> int:
    """x * 2^exponent: saturating for exponent > 0, rounding to nearest for exponent < 0."""
    if exponent == 0:
        return x
    if exponent < 0:
        return rounding_divide_by_pot(x, -exponent)
    threshold = (1 << (31 - exponent)) - 1
    if x > threshold:
        return INT32_MAX
    if x < -threshold:
        return INT32_MIN
    return x * (1 << exponent)


@njit(cache=True, inline="always")
def rounding_half_sum(a: int, b: int) -> int:
    """(a + b) / 2 rounded half away from zero (gemmlowp RoundingHalfSum, C truncating division)."""
    total = a + b
    total += 1 if total >= 0 else -1
    return total // 2 if total >= 0 else -((-total) // 2)


@njit(cache=True)
def exp_on_interval_between_negative_one_quarter_and_0_excl(a: int) -> int:
    """exp(a) for a in [-1/4, 0), input and result Q0.31: Taylor expansion around -1/8."""
    constant_term = 1895147668  # exp(-1/8)
    constant_1_over_3 = 715827883
    x = a + (1 << 28)
    x2 = saturating_rounding_doubling_high_mul(x, x)
    x3 = saturating_rounding_doubling_high_mul(x2, x)
    x4 = saturating_rounding_doubling_high_mul(x2, x2)
    x4_over_4 = rounding_divide_by_pot(x4, 2)
    inner = saturating_rounding_doubling_high_mul(x4_over_4 + x3, constant_1_over_3) + x2
    x4_over_24_plus_x3_over_6_plus_x2_over_2 = rounding_divide_by_pot(inner, 1)
    return constant_term + saturating_rounding_doubling_high_mul(
        constant_term, x + x4_over_24_plus_x3_over_6_plus_x2_over_2)


# exp(-2^k) in Q0.31 for k = -2..4: the barrel shifter of gemmlowp's exp_on_negative_values.
_EXP_BARREL = ((-2, 1672461947), (-1, 1302514674), (0, 790015084), (1, 290630308), (2, 39332535),
               (3, 720401), (4, 242))


@njit(cache=True)
def exp_on_negative_values(a: int, integer_bits: int) -> int:
    """exp(a) for a <= 0 given in Q(integer_bits); result in Q0.31."""
    fractional_bits = 31 - integer_bits
    one_quarter = 1 << (fractional_bits - 2)
    a_mod_quarter_minus_one_quarter = (a & (one_quarter - 1)) - one_quarter
    result = exp_on_interval_between_negative_one_quarter_and_0_excl(
        saturating_rounding_multiply_by_pot(a_mod_quarter_minus_one_quarter, integer_bits))
    remainder = a_mod_quarter_minus_one_quarter - a
    for exponent, multiplier in _EXP_BARREL:
        if integer_bits > exponent and remainder & (1 << (fractional_bits + exponent)):
            result = saturating_rounding_doubling_high_mul(result, multiplier)
    if integer_bits > 5 and a < -(1 << (36 - integer_bits)):
        result = 0  # below -32: exp underflows
    if a == 0:
        result = INT32_MAX
    return result


@njit(cache=True)
def one_over_one_plus_x_for_x_in_0_1(a: int) -> int:
    """1 / (1 + a) for a in [0, 1) given in Q0.31; result Q0.31. Newton-Raphson, three steps."""
    half_denominator = rounding_half_sum(a, INT32_MAX)
    constant_48_over_17 = 1515870810  # Q2.29
    constant_neg_32_over_17 = -1010580540  # Q2.29
    x = constant_48_over_17 + saturating_rounding_doubling_high_mul(half_denominator, constant_neg_32_over_17)
    one_q2 = 1 << 29
    for _ in range(3):
        half_denominator_times_x = saturating_rounding_doubling_high_mul(half_denominator, x)
        one_minus_half_denominator_times_x = one_q2 - half_denominator_times_x
        x = x + saturating_rounding_multiply_by_pot(
            saturating_rounding_doubling_high_mul(x, one_minus_half_denominator_times_x), 2)
    return saturating_rounding_multiply_by_pot(x, 1)


@njit(cache=True)
def get_reciprocal(x: int, x_integer_digits: int) -> tuple[int, int]:
    """TFLite's GetReciprocal: (1/x as Q0.31 scaled into [0.5, 1), num_bits_over_unit) for x > 0."""
    headroom_plus_one = count_leading_zeros32(x)
    num_bits_over_unit = x_integer_digits - headroom_plus_one
    shifted_sum_minus_one = wrap_int32(((x & _UINT32_MASK) << headroom_plus_one) - (1 << 31))
    return one_over_one_plus_x_for_x_in_0_1(shifted_sum_minus_one), num_bits_over_unit


def exp_on_negative_values_array(a: np.ndarray, integer_bits: int) -> np.ndarray:
    """exp_on_negative_values over an int64 array, element by element (for references and tables)."""
    flat = np.asarray(a, dtype=np.int64).reshape(-1)
    out = np.array([exp_on_negative_values(int(v), integer_bits) for v in flat], dtype=np.int64)
    return out.reshape(np.shape(a))


def rounding_divide_by_pot_array(x: np.ndarray, exponent: int) -> np.ndarray:
    """Vectorised twin of rounding_divide_by_pot: x / 2^exponent rounded half away from zero."""
    x = np.asarray(x, dtype=np.int64)
    mask = (np.int64(1) << exponent) - 1
    threshold = (mask >> 1) + (x < 0)
    return (x >> exponent) + ((x & mask) > threshold)


@njit(cache=True)
def get_inv_sqrt_quantized_multiplier_exp(x: int, reverse_shift: int) -> tuple[int, int]:
    """TFLite's GetInvSqrtQuantizedMultiplierExp: 1/sqrt(x) as (Q0.31 multiplier, shift) for x >= 0.

    Five Newton-Raphson steps in Q3.28 from a starting guess of one, after normalising x by pairs of
    bits; x <= 1 gives the largest multiplier. reverse_shift is -1 in TFLite (shift to the left).
    """
    if x <= 1:
        return INT32_MAX, 0
    output_shift = 11
    while x >= (1 << 29):
        x //= 4
        output_shift += 1
    left_shift_bit_pairs = (count_leading_zeros32(x) - 1) // 2 - 1
    output_shift -= left_shift_bit_pairs
    x <<= 2 * left_shift_bit_pairs
    half_input = rounding_divide_by_pot(x >> 1, 1)  # Q3.28
    half_three = (1 << 28) + (1 << 27)  # 1.5 in Q3.28
    estimate = 1 << 28  # 1.0 in Q3.28
    for _ in range(5):
        cube = saturating_rounding_multiply_by_pot(saturating_rounding_doubling_high_mul(
            saturating_rounding_doubling_high_mul(estimate, estimate), estimate), 6)  # Q9 -> Q3
        # Q6 difference; gemmlowp subtracts raw int32 values without saturation.
        difference = wrap_int32(saturating_rounding_doubling_high_mul(half_three, estimate)
                                - saturating_rounding_doubling_high_mul(half_input, cube))
        estimate = saturating_rounding_multiply_by_pot(difference, 3)  # Q6 -> Q3
    inv_sqrt = saturating_rounding_doubling_high_mul(estimate, 1518500250)  # times sqrt(2)/2
    if output_shift < 0:
        inv_sqrt = wrap_int32(inv_sqrt << -output_shift)
        output_shift = 0
    return inv_sqrt, output_shift * reverse_shift


@njit(cache=True)
def one_minus_x_over_one_plus_x_for_x_in_0_1(a: int) -> int:
    """(1 - a) / (1 + a) for a in [0, 1) given in Q0.31; result Q0.31. Newton-Raphson, three steps."""
    half_denominator = rounding_half_sum(a, INT32_MAX)
    x = 1515870810 + saturating_rounding_doubling_high_mul(half_denominator, -1010580540)  # Q2.29
    one_q2 = 1 << 29
    for _ in range(3):
        one_minus_half_denominator_times_x = one_q2 - saturating_rounding_doubling_high_mul(half_denominator, x)
        x = x + saturating_rounding_multiply_by_pot(
            saturating_rounding_doubling_high_mul(x, one_minus_half_denominator_times_x), 2)
    return saturating_rounding_multiply_by_pot(x - one_q2, 2)


@njit(cache=True)
def logistic(a: int, integer_bits: int) -> int:
    """gemmlowp's logistic: 1 / (1 + exp(-a)) for a in Q(integer_bits); result Q0.31."""
    if a == 0:
        return 1 << 30
    positive = one_over_one_plus_x_for_x_in_0_1(exp_on_negative_values(-abs(a), integer_bits))
    return positive if a > 0 else INT32_MAX - positive


@njit(cache=True)
def tanh(a: int, integer_bits: int) -> int:
    """gemmlowp's tanh for a in Q(integer_bits); result Q0.31."""
    if a == 0:
        return 0
    # exp(2 * -|a|): the same raw value read with one more integer bit (ExactMulByPot<1>).
    t = one_minus_x_over_one_plus_x_for_x_in_0_1(exp_on_negative_values(-abs(a), integer_bits + 1))
    return t if a > 0 else -t
