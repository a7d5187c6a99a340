/* The int8 dot product of the convolution and fully connected kernels:
 *     sum_i (x[i] + x_offset) * (w[i] + w_offset)
 * On cores with the DSP extension (Cortex-M4/M7/M33: __ARM_FEATURE_SIMD32) four terms at a time:
 * SXTAB16 widens two bytes of a word and adds the offset to both halves, SMLAD multiplies and
 * accumulates two halfword pairs. Offset bytes are in [-255, 255] and products at most 2^16, so the
 * halfword lanes never overflow and the sum is the portable loop's, bit for bit (the C fallback
 * below, which the host build runs, is the definition). */
#ifndef EDG_DOT_H
#define EDG_DOT_H

#include <stdint.h>
#include <string.h>

#if defined(__ARM_FEATURE_SIMD32) && !defined(EDG_NO_SIMD)
#include <arm_acle.h>
#define EDG_DOT_SIMD 1
#else
#define EDG_DOT_SIMD 0
#endif

#if EDG_DOT_SIMD
/* SXTAB16 with its rotate by 8 (bytes 1 and 3): ACLE has no form of it, gcc 12 no __ror. */
static inline int16x2_t edg_sxtab16_ror8(uint32_t offsets, uint32_t v) {
    uint32_t r;
    __asm__("sxtab16 %0, %1, %2, ror #8" : "=r"(r) : "r"(offsets), "r"(v));
    return (int16x2_t)r;
}
#endif

static inline int32_t edg_dot_s8(const int8_t *x, const int8_t *w, int32_t n, int32_t x_offset, int32_t w_offset) {
    int32_t acc = 0;
    int32_t i = 0;
#if EDG_DOT_SIMD
    const uint32_t xo = ((uint32_t)(uint16_t)x_offset << 16) | (uint16_t)x_offset;
    const uint32_t wo = ((uint32_t)(uint16_t)w_offset << 16) | (uint16_t)w_offset;
    for (; i + 4 <= n; i += 4) {
        uint32_t xv, wv;
        memcpy(&xv, x + i, 4); /* an unaligned word load (allowed on these cores) */
        memcpy(&wv, w + i, 4);
        /* Lanes (0, 2) and (1, 3) of both words pair up the same elements. */
        const int16x2_t x02 = (int16x2_t)__sxtab16(xo, xv);
        const int16x2_t x13 = edg_sxtab16_ror8(xo, xv);
        const int16x2_t w02 = (int16x2_t)__sxtab16(wo, wv);
        const int16x2_t w13 = edg_sxtab16_ror8(wo, wv);
        acc = __smlad(x02, w02, acc);
        acc = __smlad(x13, w13, acc);
    }
#endif
    for (; i < n; ++i) {
        acc += (x[i] + x_offset) * (w[i] + w_offset);
    }
    return acc;
}

#endif
