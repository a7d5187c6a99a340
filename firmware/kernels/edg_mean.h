/* MEAN over any axes (QuantizedMeanOrSum): sum in int32 (wrapping, as the references do), subtract
 * zero_point * count, requantize with 1/count folded into the multiplier, add the output zero point. */
#ifndef EDG_MEAN_H
#define EDG_MEAN_H

#include <stdint.h>

#include "edg_tensor_walk.h"

typedef struct {
    edg_walk_t walk; /* the kept axes, then the reduced ones: each run of `count` elements is one mean */
    int32_t count, outputs;
    int32_t input_zero_point, output_zero_point;
    int32_t multiplier, shift, rounding;
    int32_t lo, hi;
} edg_mean_params_t;

/* in: input; out: output (never the input's buffer). */
void edg_mean_s8(const void *params, const void *const *in, void *const *out, void *scratch);
void edg_mean_s16(const void *params, const void *const *in, void *const *out, void *scratch);

#endif
