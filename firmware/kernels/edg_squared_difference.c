/* SQUARED_DIFFERENCE: out = clamp(MBQM((x1 - x2)^2) + z_out) of the two rescaled inputs. */
#include "edg_squared_difference.h"

void edg_squared_difference_s8(const void *params, const void *const *in, void *const *out, void *scratch) {
    const edg_squared_difference_params_t *p = params;
    const int8_t *a = in[0];
    const int8_t *b = in[1];
    int8_t *y = out[0];
    const int32_t last = p->bc.rank - 1;
    const int32_t run = p->bc.size[last], step_a = p->bc.a_stride[last], step_b = p->bc.b_stride[last];
    const int32_t runs = edg_broadcast_runs(&p->bc);
    edg_broadcast_pos_t pos;
    (void)scratch;
    edg_broadcast_start(&pos);
    for (int32_t r = 0; r < runs; ++r) {
        const int8_t *ra = a + pos.a;
        const int8_t *rb = b + pos.b;
        for (int32_t i = 0; i < run; ++i) {
            const int64_t diff = (int64_t)p->scaled1[ra[i * step_a] + 128] - p->scaled2[rb[i * step_b] + 128];
            const int64_t value = edg_mbqm_wide(diff * diff, p->output_multiplier, p->output_shift, p->rounding);
            *y++ = (int8_t)edg_clamp64(value + p->output_offset, -128, 127);
        }
        edg_broadcast_next(&p->bc, &pos);
    }
}
