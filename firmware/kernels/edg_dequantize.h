/* DEQUANTIZE: int8 or int16 -> float32, per tensor: float32(scale * (q - zero_point)). */
#ifndef EDG_DEQUANTIZE_H
#define EDG_DEQUANTIZE_H

#include <math.h> /* INFINITY: the generator spells infinite table entries with it */

#include "edg_model.h"

typedef struct {
    int32_t count;      /* elements */
    const float *table; /* int8: the result for input q at q + 128 */
    float scale;        /* int16 */
    int32_t zero_point; /* int16 */
} edg_dequantize_params_t;

/* in: int8/int16 input; out: float32 output. */
void edg_dequantize_s8(const void *params, const void *const *in, void *const *out, void *scratch);
void edg_dequantize_s16(const void *params, const void *const *in, void *const *out, void *scratch);

#endif
