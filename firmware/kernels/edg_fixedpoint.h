/* gemmlowp-style fixed-point primitives for the nonlinear kernels: the twin of
 * edgeml/quant/fixedpoint.py and edgeml/quant/lut_int16.py. Values are raw int32 fixed-point numbers
 * carried in int64, in gemmlowp's Q(m).(31-m) notation; saturation and rounding are gemmlowp's. */
#ifndef EDG_FIXEDPOINT_H
#define EDG_FIXEDPOINT_H

#include <stdint.h>

#include "edg_requant.h"

/* Leading zero bits of x (32 for zero). */
static inline int32_t edg_clz32(uint32_t x) {
    int32_t n = 0;
    if (x == 0u) {
        return 32;
    }
    while (x < 0x80000000u) {
        x <<= 1;
        ++n;
    }
    return n;
}

/* x * 2^exponent: saturating for exponent > 0, rounding to nearest for exponent < 0. */
static inline int64_t edg_saturating_rounding_multiply_by_pot(int64_t x, int32_t exponent) {
    if (exponent == 0) {
        return x;
    }
    if (exponent < 0) {
        return edg_rounding_divide_by_pot(x, -exponent);
    }
    const int64_t threshold = ((int64_t)1 << (31 - exponent)) - 1;
    if (x > threshold) {
        return INT32_MAX;
    }
    if (x < -threshold) {
        return INT32_MIN;
    }
    return x * ((int64_t)1 << exponent);
}

/* (a + b) / 2 rounded half away from zero (gemmlowp RoundingHalfSum). */
static inline int64_t edg_rounding_half_sum(int64_t a, int64_t b) {
    int64_t total = a + b;
    total += total >= 0 ? 1 : -1;
    return total / 2; /* C division truncates toward zero */
}

/* 1 / (1 + a) for a in [0, 1) in Q0.31; result Q0.31 (three Newton-Raphson steps). */
static inline int64_t edg_one_over_one_plus_x_for_x_in_0_1(int64_t a) {
    const int64_t half_denominator = edg_rounding_half_sum(a, INT32_MAX);
    const int64_t constant_48_over_17 = 1515870810;      /* Q2.29 */
    const int64_t constant_neg_32_over_17 = -1010580540; /* Q2.29 */
    int64_t x = constant_48_over_17 + edg_saturating_rounding_doubling_high_mul(half_denominator,
                                                                                constant_neg_32_over_17);
    for (int step = 0; step < 3; ++step) {
        const int64_t half_denominator_times_x = edg_saturating_rounding_doubling_high_mul(half_denominator, x);
        const int64_t one_minus = ((int64_t)1 << 29) - half_denominator_times_x;
        x = x + edg_saturating_rounding_multiply_by_pot(edg_saturating_rounding_doubling_high_mul(x, one_minus), 2);
    }
    return edg_saturating_rounding_multiply_by_pot(x, 1);
}

/* TFLite's GetReciprocal of the low 32 bits of x > 0 with x_integer_digits: 1/x as Q0.31 scaled into
 * [0.5, 1), and *num_bits_over_unit. */
static inline int64_t edg_get_reciprocal(int64_t x, int32_t x_integer_digits, int32_t *num_bits_over_unit) {
    const uint32_t low = (uint32_t)x;
    const int32_t headroom_plus_one = edg_clz32(low);
    *num_bits_over_unit = x_integer_digits - headroom_plus_one;
    const uint32_t shifted = (uint32_t)(((uint64_t)low << headroom_plus_one) - 0x80000000u);
    return edg_one_over_one_plus_x_for_x_in_0_1((int64_t)(int32_t)shifted);
}

/* LUTLookup over a 513-entry int16 table: the top 9 bits pick the entry, the low 7 interpolate. */
static inline int32_t edg_lut_lookup_int16(int32_t value, const int16_t *lut) {
    const int32_t index = 256 + (value >> 7);
    const int32_t offset = value & 0x7F;
    const int32_t base = lut[index];
    const int32_t slope = (int32_t)lut[index + 1] - base;
    return base + ((slope * offset + 64) >> 7);
}

#endif
