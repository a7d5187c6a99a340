/* FULLY_CONNECTED reference kernels: one int32 (int8) or int64 (16x8) accumulator per output. */
#include "edg_fully_connected.h"

#include "edg_dot.h"
#include "edg_requant.h"

void edg_fully_connected_s8(const void *params, const void *const *in, void *const *out, void *scratch) {
    const edg_fully_connected_params_t *p = params;
    const int8_t *x = in[0];
    const int8_t *w = in[1];
    int8_t *y = out[0];
    (void)scratch;
    for (int32_t r = 0; r < p->rows; ++r) {
        const int8_t *row = x + r * p->depth;
        for (int32_t c = 0; c < p->channels; ++c) {
            const int8_t *wc = w + c * p->depth;
            int32_t acc = edg_dot_s8(row, wc, p->depth, p->input_offset, p->filter_offset);
            if (p->bias32 != NULL) {
                acc += p->bias32[c];
            }
            int32_t v = edg_mbqm(acc, p->multiplier[c], p->shift[c], p->rounding) + p->output_offset;
            y[r * p->channels + c] = (int8_t)edg_clamp(v, p->lo, p->hi);
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
