/* FULLY_CONNECTED reference kernels: one int32 (int8) or int64 (16x8) accumulator per output. */
#include "edg_fully_connected.h"

#include "edg_dot.h"
#include "edg_requant.h"

static inline int8_t fc_finish_s8(const edg_fully_connected_params_t *p, int32_t c, int32_t acc) {
    if (p->bias32 != NULL) {
        acc += p->bias32[c];
    }
    const int32_t v = edg_mbqm(acc, p->multiplier[c], p->shift[c], p->rounding) + p->output_offset;
    return (int8_t)edg_clamp(v, p->lo, p->hi);
}

/* Two output channels per pass over the input row (edg_dot2_s8). */
void edg_fully_connected_s8(const void *params, const void *const *in, void *const *out, void *scratch) {
    const edg_fully_connected_params_t *p = params;
    const int8_t *x = in[0];
    const int8_t *w = in[1];
    int8_t *y = out[0];
    (void)scratch;
    for (int32_t r = 0; r < p->rows; ++r) {
        const int8_t *row = x + r * p->depth;
        int8_t *dst = y + r * p->channels;
        int32_t c = 0;
        for (; c + 2 <= p->channels; c += 2) {
            int32_t acc0 = 0, acc1 = 0;
            edg_dot2_s8(row, w + c * p->depth, w + (c + 1) * p->depth, p->depth, p->input_offset, p->filter_offset,
                        &acc0, &acc1);
            dst[c] = fc_finish_s8(p, c, acc0);
            dst[c + 1] = fc_finish_s8(p, c + 1, acc1);
        }
        if (c < p->channels) {
            dst[c] = fc_finish_s8(p, c, edg_dot_s8(row, w + c * p->depth, p->depth, p->input_offset,
                                                   p->filter_offset));
        }
    }
}

void edg_fully_connected_s16(const void *params, const void *const *in, void *const *out, void *scratch) {
    const edg_fully_connected_params_t *p = params;
    const int16_t *x = in[0];
    const int8_t *w = in[1];
    int16_t *y = out[0];
    (void)scratch;
    for (int32_t r = 0; r < p->rows; ++r) {
        const int16_t *row = x + r * p->depth;
        for (int32_t c = 0; c < p->channels; ++c) {
            const int8_t *wc = w + c * p->depth;
            int64_t acc = 0;
            for (int32_t k = 0; k < p->depth; ++k) {
                acc += (int64_t)(row[k] + p->input_offset) * (wc[k] + p->filter_offset);
            }
            if (p->bias64 != NULL) {
                acc += p->bias64[c];
            }
            int32_t v = edg_mbqm_int64(acc, p->multiplier[c], p->shift[c]) + p->output_offset;
            y[r * p->channels + c] = (int16_t)edg_clamp(v, p->lo, p->hi);
        }
    }
}
