/* TRANSPOSE_CONV reference kernels: every input pixel scatters its filter-window contribution into the
 * output accumulators (scratch), taps that land outside the output are dropped; then each
 * accumulator gets its bias and is requantized per output channel. */
#include "edg_transpose_conv.h"

#include <string.h>

#include "edg_requant.h"

void edg_transpose_conv_s8(const void *params, const void *const *in, void *const *out, void *scratch) {
    const edg_transpose_conv_params_t *p = params;
    const int8_t *w = in[1];
    const int8_t *x = in[2];
    int8_t *y = out[0];
    int32_t *acc = scratch;
    const int32_t in_c = p->in_c, out_c = p->out_c, filter_w = p->filter_w;
    const int32_t filter_size = p->filter_h * filter_w * in_c;
    const int32_t input_offset = p->input_offset;
    const int32_t outputs = p->batches * p->out_h * p->out_w * out_c;
    memset(acc, 0, (size_t)outputs * sizeof(int32_t));
    for (int32_t b = 0; b < p->batches; ++b) {
        for (int32_t iy = 0; iy < p->in_h; ++iy) {
            for (int32_t ix = 0; ix < p->in_w; ++ix) {
                const int8_t *xp = x + ((b * p->in_h + iy) * p->in_w + ix) * in_c;
                for (int32_t ky = 0; ky < p->filter_h; ++ky) {
                    const int32_t oy = iy * p->stride_h - p->pad_h + ky;
                    if (oy < 0 || oy >= p->out_h) {
                        continue;
                    }
                    for (int32_t kx = 0; kx < filter_w; ++kx) {
                        const int32_t ox = ix * p->stride_w - p->pad_w + kx;
                        if (ox < 0 || ox >= p->out_w) {
                            continue;
                        }
                        int32_t *ap = acc + ((b * p->out_h + oy) * p->out_w + ox) * out_c;
                        const int8_t *wt = w + (ky * filter_w + kx) * in_c;
                        for (int32_t oc = 0; oc < out_c; ++oc) {
                            const int8_t *wp = wt + oc * filter_size;
                            int32_t sum = 0;
                            for (int32_t ic = 0; ic < in_c; ++ic) {
                                sum += (xp[ic] + input_offset) * wp[ic];
                            }
                            ap[oc] += sum;
                        }
                    }
                }
            }
        }
    }
    for (int32_t i = 0, oc = 0; i < outputs; ++i) {
        int32_t a = acc[i];
        if (p->bias32 != NULL) {
            a += p->bias32[oc];
        }
        const int32_t v = edg_mbqm(a, p->multiplier[oc], p->shift[oc], p->rounding) + p->output_offset;
        y[i] = (int8_t)edg_clamp(v, p->lo, p->hi);
        oc = oc + 1 == out_c ? 0 : oc + 1;
    }
}

void edg_transpose_conv_s16(const void *params, const void *const *in, void *const *out, void *scratch) {
    const edg_transpose_conv_params_t *p = params;
    const int8_t *w = in[1];
    const int16_t *x = in[2];
    int16_t *y = out[0];
    int64_t *acc = scratch;
    const int32_t in_c = p->in_c, out_c = p->out_c, filter_w = p->filter_w;
    const int32_t filter_size = p->filter_h * filter_w * in_c;
    const int32_t input_offset = p->input_offset;
    const int32_t outputs = p->batches * p->out_h * p->out_w * out_c;
    memset(acc, 0, (size_t)outputs * sizeof(int64_t));
    for (int32_t b = 0; b < p->batches; ++b) {
        for (int32_t iy = 0; iy < p->in_h; ++iy) {
            for (int32_t ix = 0; ix < p->in_w; ++ix) {
                const int16_t *xp = x + ((b * p->in_h + iy) * p->in_w + ix) * in_c;
                for (int32_t ky = 0; ky < p->filter_h; ++ky) {
                    const int32_t oy = iy * p->stride_h - p->pad_h + ky;
                    if (oy < 0 || oy >= p->out_h) {
                        continue;
                    }
                    for (int32_t kx = 0; kx < filter_w; ++kx) {
                        const int32_t ox = ix * p->stride_w - p->pad_w + kx;
                        if (ox < 0 || ox >= p->out_w) {
                            continue;
                        }
                        int64_t *ap = acc + ((b * p->out_h + oy) * p->out_w + ox) * out_c;
                        const int8_t *wt = w + (ky * filter_w + kx) * in_c;
                        for (int32_t oc = 0; oc < out_c; ++oc) {
                            const int8_t *wp = wt + oc * filter_size;
                            int64_t sum = 0;
                            for (int32_t ic = 0; ic < in_c; ++ic) {
                                sum += (int64_t)((xp[ic] + input_offset) * wp[ic]);
                            }
                            ap[oc] += sum;
                        }
                    }
                }
            }
        }
    }
    for (int32_t i = 0, oc = 0; i < outputs; ++i) {
        int64_t a = acc[i];
        if (p->bias64 != NULL) {
            a += p->bias64[oc];
        }
        const int32_t v = edg_mbqm_int64(a, p->multiplier[oc], p->shift[oc]) + p->output_offset;
        y[i] = (int16_t)edg_clamp(v, p->lo, p->hi);
        oc = oc + 1 == out_c ? 0 : oc + 1;
    }
}
