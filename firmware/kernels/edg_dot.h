/* The int8 dot products of the convolution and fully connected kernels:
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

static inline uint32_t edg_offset_pair(int32_t offset) {
    return ((uint32_t)(uint16_t)offset << 16) | (uint16_t)offset;
}

static inline uint32_t edg_load32(const int8_t *p) {
    uint32_t v;
    memcpy(&v, p, 4); /* an unaligned word load (allowed on these cores) */
    return v;
}
#endif

static inline int32_t edg_dot_s8(const int8_t *x, const int8_t *w, int32_t n, int32_t x_offset, int32_t w_offset) {
    int32_t acc = 0;
    int32_t i = 0;
#if EDG_DOT_SIMD
    const uint32_t xo = edg_offset_pair(x_offset);
    const uint32_t wo = edg_offset_pair(w_offset);
    for (; i + 4 <= n; i += 4) {
        const uint32_t xv = edg_load32(x + i);
        const uint32_t wv = edg_load32(w + i);
        /* Lanes (0, 2) and (1, 3) of both words pair up the same elements. */
        acc = __smlad((int16x2_t)__sxtab16(xo, xv), (int16x2_t)__sxtab16(wo, wv), acc);
        acc = __smlad(edg_sxtab16_ror8(xo, xv), edg_sxtab16_ror8(wo, wv), acc);
    }
#endif
    for (; i < n; ++i) {
        acc += (x[i] + x_offset) * (w[i] + w_offset);
    }
    return acc;
}

/* Two dot products sharing x: *acc0 += x . w0, *acc1 += x . w1 (offsets as above); x is widened
 * once for both. */
static inline void edg_dot2_s8(const int8_t *x, const int8_t *w0, const int8_t *w1, int32_t n, int32_t x_offset,
                               int32_t w_offset, int32_t *acc0, int32_t *acc1) {
    int32_t a0 = *acc0, a1 = *acc1;
    int32_t i = 0;
#if EDG_DOT_SIMD
    const uint32_t xo = edg_offset_pair(x_offset);
    const uint32_t wo = edg_offset_pair(w_offset);
    for (; i + 4 <= n; i += 4) {
        const uint32_t xv = edg_load32(x + i);
        const uint32_t v0 = edg_load32(w0 + i);
        const uint32_t v1 = edg_load32(w1 + i);
        const int16x2_t x02 = (int16x2_t)__sxtab16(xo, xv);
        const int16x2_t x13 = edg_sxtab16_ror8(xo, xv);
        a0 = __smlad(x02, (int16x2_t)__sxtab16(wo, v0), a0);
        a0 = __smlad(x13, edg_sxtab16_ror8(wo, v0), a0);
        a1 = __smlad(x02, (int16x2_t)__sxtab16(wo, v1), a1);
        a1 = __smlad(x13, edg_sxtab16_ror8(wo, v1), a1);
    }
#endif
    for (; i < n; ++i) {
        const int32_t xi = x[i] + x_offset;
        a0 += xi * (w0[i] + w_offset);
        a1 += xi * (w1[i] + w_offset);
    }
    *acc0 = a0;
    *acc1 = a1;
}

#endif
