/* ADD / SUB: each input rescaled to twice the larger input scale, summed, requantized to the output. */
#include "edg_add_sub.h"

static inline int64_t combine(const edg_add_sub_params_t *p, int64_t x1, int64_t x2) {
    int64_t raw = x1 + p->sign * x2;
    if (!p->pot) {
        raw = edg_mbqm_wide(raw, p->output_multiplier, p->output_shift, p->rounding) + p->output_offset;
    }
    return edg_clamp64(raw, p->lo, p->hi);
}

static inline int64_t scale_input(const edg_add_sub_params_t *p, int32_t q, int32_t offset, int32_t multiplier,
                                  int32_t shift, int32_t pot_shift) {
    if (p->pot) {
        return edg_rounding_divide_by_pot(q, pot_shift);
    }
    return edg_mbqm_wide((int64_t)(q + offset) * ((int64_t)1 << p->left_shift), multiplier, shift, p->rounding);
}

void edg_add_sub_s8(const void *params, const void *const *in, void *const *out, void *scratch) {
    const edg_add_sub_params_t *p = params;
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
            *y++ = (int8_t)combine(p, p->scaled1[ra[i * step_a] + 128], p->scaled2[rb[i * step_b] + 128]);
        }
        edg_broadcast_next(&p->bc, &pos);
    }
}

void edg_add_sub_s16(const void *params, const void *const *in, void *const *out, void *scratch) {
    const edg_add_sub_params_t *p = params;
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
            const int64_t x1 = scale_input(p, ra[i * step_a], p->offset1, p->multiplier1, p->shift1, p->pot_shift1);
            const int64_t x2 = scale_input(p, rb[i * step_b], p->offset2, p->multiplier2, p->shift2, p->pot_shift2);
            *y++ = (int16_t)combine(p, x1, x2);
        }
        edg_broadcast_next(&p->bc, &pos);
    }
}
