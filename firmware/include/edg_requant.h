/* edgeml C runtime: the single C definition of requantization (the twin of edgeml/quant/requant.py).
 *
 * multiplier is an int32 mantissa with its point at bit 31 and shift its power-of-two exponent, as
 * edgeml's Python side computes them for the chosen reference. The rounding mode is data:
 * EDG_ROUND_SINGLE is TFLite's one-step rounding, EDG_ROUND_DOUBLE gemmlowp's
 * SaturatingRoundingDoublingHighMul followed by RoundingDivideByPOT. Results are truncated to int32
 * as the reference kernels do. Right shifts of negative values are arithmetic (checked below).
 * EDG_ROUND_FLOAT32 is onnxruntime's requantization: multiplier then holds the bits of a float32
 * scale, the product is rounded half to even (edgeml/quant/requant.py requantize_float32_array). It
 * needs IEEE float32 in round-to-nearest-even and -ffp-contract=off (the build passes it). */
#ifndef EDG_REQUANT_H
#define EDG_REQUANT_H

#include <stdint.h>
#include <string.h>

#if ((-1) >> 1) != -1
#error "edgeml needs arithmetic right shifts of negative integers"
#endif

#ifdef __cplusplus
extern "C" {
#endif

enum { EDG_ROUND_SINGLE = 0, EDG_ROUND_DOUBLE = 1, EDG_ROUND_FLOAT32 = 2 };

/* v rounded half to even. |v| is first limited to 2^22 (every 8- and 16-bit result beyond it is
 * saturated anyway); adding and subtracting 1.5 * 2^23 then leaves the integer that the FPU's
 * round-to-nearest-even mode picks, with no libm. */
static inline int32_t edg_round_half_even_f32(float v) {
    const float limit = 4194304.0f;
    const float magic = 12582912.0f;
    v = v > limit ? limit : (v < -limit ? -limit : v);
    const float rounded = (v + magic) - magic;
    return (int32_t)rounded;
}

static inline float edg_f32_from_bits(int32_t bits) {
    float value;
    memcpy(&value, &bits, sizeof value);
    return value;
}

/* x * y + z rounded once to float32, as an FMA instruction computes it (onnxruntime's AVX2 kernels use
 * them): the product is exact in double, the double sum is made round-to-odd (TwoSum gives its exact
 * error; an inexact even result moves one step toward it), and a round-to-odd double rounds to float
 * exactly as the infinitely precise sum would. The twin of fma32 in edgeml/quant/requant.py. */
static inline float edg_fmaf(float x, float y, float z) {
#if defined(__ARM_FEATURE_FMA) && defined(__ARM_FP) && (__ARM_FP & 4)
    /* Cortex-M4F/M7: VFMA.F32 is the fused operation itself, one instruction. */
    return __builtin_fmaf(x, y, z);
#else
    const double a = (double)x * (double)y;
    const double b = (double)z;
    double sum = a + b;
    const double b_part = sum - a;
    const double error = (a - (sum - b_part)) + (b - b_part);
    uint64_t bits;
    memcpy(&bits, &sum, sizeof bits);
    if (error != 0.0 && (bits & 1u) == 0u) {
        bits = ((error > 0.0) == (sum > 0.0)) ? bits + 1u : bits - 1u;
        memcpy(&sum, &bits, sizeof sum);
    }
    return (float)sum;
#endif
}

/* onnxruntime's requantization of an int32 sum: float32(x) * scale, rounded half to even. */
static inline int32_t edg_requant_f32(int32_t x, int32_t scale_bits) {
    return edg_round_half_even_f32((float)x * edg_f32_from_bits(scale_bits));
}

static inline int64_t edg_rounding_divide_by_pot(int64_t x, int exponent) {
    const int64_t mask = ((int64_t)1 << exponent) - 1;
    const int64_t remainder = x & mask;
    const int64_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

static inline int64_t edg_saturating_rounding_doubling_high_mul(int64_t a, int64_t b) {
    if (a == INT32_MIN && b == INT32_MIN) {
        return INT32_MAX;
    }
    const int64_t ab = a * b;
    const int64_t nudge = ab >= 0 ? ((int64_t)1 << 30) : (1 - ((int64_t)1 << 30));
    const int64_t t = ab + nudge;
    /* C division truncates toward zero, as gemmlowp's does. */
    return t / ((int64_t)1 << 31);
}

static inline int32_t edg_mbqm_single(int32_t x, int32_t multiplier, int32_t shift) {
    const int total_shift = 31 - shift;
    const int64_t round = (int64_t)1 << (total_shift - 1);
    return (int32_t)(((int64_t)x * multiplier + round) >> total_shift);
}

/* RoundingDivideByPOT of an int32 by 2^exponent, exponent in [0, 31], in 32-bit arithmetic. */
static inline int32_t edg_rounding_divide_by_pot32(int32_t x, int32_t exponent) {
    const int32_t mask = (int32_t)((1u << exponent) - 1u);
    const int32_t remainder = x & mask;
    const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

static inline int32_t edg_mbqm_double(int32_t x, int32_t multiplier, int32_t shift) {
    if (shift <= 0 && shift >= -31) {
        /* The kernels' usual case (no left shift): the same steps with one 32x32->64 multiply and
         * 32-bit rounding, which a Cortex-M does in a few instructions. */
        int32_t high = INT32_MAX;
        if (!(x == INT32_MIN && multiplier == INT32_MIN)) {
            const int64_t ab = (int64_t)x * multiplier;
            const int64_t t = ab + (ab >= 0 ? ((int64_t)1 << 30) : (1 - ((int64_t)1 << 30)));
            high = (int32_t)((t < 0 ? t + INT32_MAX : t) >> 31); /* t / 2^31 truncated toward zero */
        }
        return edg_rounding_divide_by_pot32(high, -shift);
    }
    const int left = shift > 0 ? shift : 0;
    const int right = shift < 0 ? -shift : 0;
    const int64_t high = edg_saturating_rounding_doubling_high_mul((int64_t)x * ((int64_t)1 << left), multiplier);
    return (int32_t)edg_rounding_divide_by_pot(high, right);
}

/* MultiplyByQuantizedMultiplier with the rounding chosen at conversion time. */
static inline int32_t edg_mbqm(int32_t x, int32_t multiplier, int32_t shift, int32_t rounding) {
    if (rounding == EDG_ROUND_FLOAT32) {
        return edg_requant_f32(x, multiplier);
    }
    return rounding == EDG_ROUND_SINGLE ? edg_mbqm_single(x, multiplier, shift)
                                        : edg_mbqm_double(x, multiplier, shift);
}

/* The 64-bit-accumulator form of the 16x8 kernels (the same in both references). */
static inline int32_t edg_mbqm_int64(int64_t x, int32_t multiplier, int32_t shift) {
    const int64_t reduced = multiplier < 0x7FFF0000 ? (((int64_t)multiplier + (1 << 15)) >> 16) : 0x7FFF;
    const int total_shift = 15 - shift;
    return (int32_t)((x * reduced + ((int64_t)1 << (total_shift - 1))) >> total_shift);
}

/* multiply_by_quantized_multiplier of edgeml/quant/requant.py on an int64 value, as the Python
 * kernels compute it (edg_mbqm takes int32: some element-wise intermediates are wider, e.g. int16
 * ADD's (q - z) << 15 with a non-zero zero point). Built from the same steps as above. */
static inline int64_t edg_mbqm_wide(int64_t x, int32_t multiplier, int32_t shift, int32_t rounding) {
    if (rounding == EDG_ROUND_SINGLE) {
        const int total_shift = 31 - shift;
        return (x * multiplier + ((int64_t)1 << (total_shift - 1))) >> total_shift;
    }
    const int left = shift > 0 ? shift : 0;
    const int right = shift < 0 ? -shift : 0;
    return edg_rounding_divide_by_pot(edg_saturating_rounding_doubling_high_mul(x * ((int64_t)1 << left), multiplier),
                                      right);
}

static inline int32_t edg_clamp(int32_t x, int32_t lo, int32_t hi) {
    return x < lo ? lo : (x > hi ? hi : x);
}

#ifdef __cplusplus
}
#endif
#endif
