/* SOFTMAX over the last axis.
 *
 * int8 input (int8 or int16 output): gemmlowp's fixed-point path. The 256 possible exps of
 * (x - row max) come precomputed from edgeml (exp_table, Q0.31, 0 below diff_min; and the same in the
 * Q12.19 accumulator), so the kernel sums, inverts the sum with GetReciprocal and scales.
 * int16 input: SoftmaxInt16, exp and 1/(1+x) from 513-entry interpolated tables. */
#ifndef EDG_SOFTMAX_H
#define EDG_SOFTMAX_H

#include <stdint.h>

typedef struct {
    int32_t rows, depth;
    /* int8 input */
    int32_t output_bits, output_min, output_max;
    const int32_t *exp_table;       /* [256], by row max - x */
    const int32_t *exp_accum_table; /* [256] */
    /* int16 input */
    int32_t input_multiplier, input_shift, rounding;
    const int16_t *exp_lut;   /* [513] */
    const int16_t *recip_lut; /* [513] */
} edg_softmax_params_t;

/* in: input; out: output (never the input's buffer). */
void edg_softmax_s8_s8(const void *params, const void *const *in, void *const *out, void *scratch);
void edg_softmax_s8_s16(const void *params, const void *const *in, void *const *out, void *scratch);
void edg_softmax_s16(const void *params, const void *const *in, void *const *out, void *scratch);

#endif
