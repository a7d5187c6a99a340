/* LEAKY_RELU: int8 (a table of the 256 input values' results) and int16 (zero points of 0),
 * requantized by s_in / s_out at or above the zero point and by s_in * alpha / s_out below it. */
#ifndef EDG_LEAKY_RELU_H
#define EDG_LEAKY_RELU_H

#include "edg_elementwise.h"

typedef struct {
    int32_t count;       /* elements */
    const int8_t *table; /* int8: result for input q at q + 128 */
    int32_t input_offset, output_offset; /* zero points (int16) */
    int32_t identity_multiplier, identity_shift;
    int32_t alpha_multiplier, alpha_shift;
    int32_t lo, hi;
    int32_t rounding; /* EDG_ROUND_* */
} edg_leaky_relu_params_t;

/* in: input; out: output (may be the input's buffer). */
void edg_leaky_relu_s8(const void *params, const void *const *in, void *const *out, void *scratch);
void edg_leaky_relu_s16(const void *params, const void *const *in, void *const *out, void *scratch);

#endif
