#include "edg_mean.h"

#include "edg_requant.h"

static int32_t mean_of(const edg_mean_params_t *p, uint32_t total) {
    /* int32 wrap-around, as the references' int32 sums and subtraction have. */
    const uint32_t subtract = (uint32_t)p->input_zero_point * (uint32_t)p->count;
    const int32_t shifted = (int32_t)(total - subtract);
    return edg_clamp(edg_mbqm(shifted, p->multiplier, p->shift, p->rounding) + p->output_zero_point, p->lo, p->hi);
}

#define EDG_MEAN_KERNEL(T)                                                                                   \
    const edg_mean_params_t *p = params;                                                                     \
    const T *x = in[0];                                                                                      \
    T *y = out[0];                                                                                           \
    edg_walk_pos_t pos;                                                                                      \
    (void)scratch;                                                                                           \
    edg_walk_start(&p->walk, &pos);                                                                          \
    for (int32_t o = 0; o < p->outputs; ++o) {                                                               \
        uint32_t total = 0;                                                                                  \
        for (int32_t k = 0; k < p->count; ++k) {                                                             \
            total += (uint32_t)(int32_t)x[pos.src];                                                          \
            (void)edg_walk_next(&p->walk, &pos);                                                             \
        }                                                                                                    \
        y[o] = (T)mean_of(p, total);                                                                         \
    }

void edg_mean_s8(const void *params, const void *const *in, void *const *out, void *scratch) {
    EDG_MEAN_KERNEL(int8_t)
}

void edg_mean_s16(const void *params, const void *const *in, void *const *out, void *scratch) {
    EDG_MEAN_KERNEL(int16_t)
}
