#include "edg_leaky_relu.h"

void edg_leaky_relu_s8(const void *params, const void *const *in, void *const *out, void *scratch) {
    const edg_leaky_relu_params_t *p = params;
    (void)scratch;
    edg_lookup_s8_s8(p->table, in[0], out[0], p->count);
}

/* int16: 64K-entry tables would not fit a microcontroller's flash; one requantization per element. */
void edg_leaky_relu_s16(const void *params, const void *const *in, void *const *out, void *scratch) {
    const edg_leaky_relu_params_t *p = params;
    const int16_t *x = in[0];
    int16_t *y = out[0];
    (void)scratch;
    for (int32_t k = 0; k < p->count; ++k) {
        const int64_t v = (int64_t)x[k] - p->input_offset;
        const int64_t scaled = v >= 0 ? edg_mbqm_wide(v, p->identity_multiplier, p->identity_shift, p->rounding)
                                      : edg_mbqm_wide(v, p->alpha_multiplier, p->alpha_shift, p->rounding);
        y[k] = (int16_t)edg_clamp64(scaled + p->output_offset, p->lo, p->hi);
    }
}
