/* SQUARED_DIFFERENCE: int8, with broadcasting. */
#ifndef EDG_SQUARED_DIFFERENCE_H
#define EDG_SQUARED_DIFFERENCE_H

#include "edg_elementwise.h"

typedef struct {
    edg_broadcast_t bc;
    int32_t output_multiplier, output_shift, output_offset;
    int32_t rounding; /* EDG_ROUND_* */
    /* each input value's rescaled value ((q - z) << 7, times its multiplier), indexed by q + 128 */
    const int32_t *scaled1;
    const int32_t *scaled2;
} edg_squared_difference_params_t;

/* in: the two operands; out: the output (may be an operand of the output's shape). */
void edg_squared_difference_s8(const void *params, const void *const *in, void *const *out, void *scratch);

#endif
