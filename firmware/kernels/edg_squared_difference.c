/* SQUARED_DIFFERENCE: out = clamp(MBQM((x1 - x2)^2) + z_out) of the two rescaled inputs. */
#include "edg_squared_difference.h"

static inline int64_t squared_difference_one(const edg_squared_difference_params_t *p, int32_t a, int32_t b) {
    const int64_t diff = (int64_t)p->scaled1[a + 128] - p->scaled2[b + 128];
    const int64_t value = edg_mbqm_wide(diff * diff, p->output_multiplier, p->output_shift, p->rounding);
    return edg_clamp64(value + p->output_offset, -128, 127);
}

void edg_squared_difference_s8(const void *params, const void *const *in, void *const *out, void *scratch) {
    const edg_squared_difference_params_t *p = params;
    (void)scratch;
    EDG_BROADCAST_BINARY(int8_t, &p->bc, (const int8_t *)in[0], (const int8_t *)in[1], (int8_t *)out[0],
                         squared_difference_one(p, va, vb));
}
