/* MUL: out = clamp(MBQM((a - za) * (b - zb)) + z_out). */
#include "edg_mul.h"

static inline int64_t mul_one(const edg_mul_params_t *p, int32_t a, int32_t b) {
    const int64_t product = (int64_t)(a + p->offset1) * (b + p->offset2);
    return edg_clamp64(edg_mbqm_wide(product, p->multiplier, p->shift, p->rounding) + p->output_offset, p->lo, p->hi);
}

void edg_mul_s8(const void *params, const void *const *in, void *const *out, void *scratch) {
    const edg_mul_params_t *p = params;
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
            *y++ = (int8_t)mul_one(p, ra[i * step_a], rb[i * step_b]);
        }
        edg_broadcast_next(&p->bc, &pos);
    }
}

void edg_mul_s16(const void *params, const void *const *in, void *const *out, void *scratch) {
    const edg_mul_params_t *p = params;
    const int16_t *a = in[0];
    const int16_t *b = in[1];
    int16_t *y = out[0];
    const int32_t last = p->bc.rank - 1;
    const int32_t run = p->bc.size[last], step_a = p->bc.a_stride[last], step_b = p->bc.b_stride[last];
    const int32_t runs = edg_broadcast_runs(&p->bc);
    edg_broadcast_pos_t pos;
    (void)scratch;
    edg_broadcast_start(&pos);
    for (int32_t r = 0; r < runs; ++r) {
        const int16_t *ra = a + pos.a;
        const int16_t *rb = b + pos.b;
        for (int32_t i = 0; i < run; ++i) {
            *y++ = (int16_t)mul_one(p, ra[i * step_a], rb[i * step_b]);
        }
        edg_broadcast_next(&p->bc, &pos);
    }
}
