/* DEPTHWISE_CONV_2D reference kernels: each output element is the sum over the filter window of one
 * input channel, in an int32 (int8) or int64 (16x8) accumulator, requantized per output channel.
 * Taps outside the image are skipped, as in the references. */
#include "edg_depthwise_conv_2d.h"

#include "edg_requant.h"

typedef struct dw_taps dw_taps_t;
typedef void (*dw_pixel_fn)(const edg_depthwise_conv_2d_params_t *p, const dw_taps_t *t, const void *image,
                            const int8_t *w, int32_t oy, int32_t ox, void *dst);
typedef void (*dw_channel_fn)(const edg_depthwise_conv_2d_params_t *p, const dw_taps_t *t, const void *image,
                              void *out_image, const int8_t *w, int32_t c, void *scratch);

/* Output (oy, ox, oc) of one image, reading input channel ic. The taps inside the image form a
 * rectangle [ky0, ky1) x [kx0, kx1) (dilation 1), walked with pointer steps; dilated filters test
 * every tap. */
static inline int8_t dw_output_s8(const edg_depthwise_conv_2d_params_t *p, const int8_t *image, const int8_t *w,
                                  int32_t oy, int32_t ox, int32_t ic, int32_t oc) {
    const int32_t in_h = p->in_h, in_w = p->in_w, in_c = p->in_c, out_c = p->out_c;
    const int32_t filter_h = p->filter_h, filter_w = p->filter_w;
    const int32_t dilation_h = p->dilation_h, dilation_w = p->dilation_w;
    const int32_t input_offset = p->input_offset;
    const int32_t iy0 = oy * p->stride_h - p->pad_h;
    const int32_t ix0 = ox * p->stride_w - p->pad_w;
    int32_t acc = 0;
    if (dilation_h == 1 && dilation_w == 1) {
        const int32_t ky0 = iy0 < 0 ? -iy0 : 0, ky1 = in_h - iy0 < filter_h ? in_h - iy0 : filter_h;
        const int32_t kx0 = ix0 < 0 ? -ix0 : 0, kx1 = in_w - ix0 < filter_w ? in_w - ix0 : filter_w;
        const int8_t *x_row = image + ((iy0 + ky0) * in_w + ix0 + kx0) * in_c + ic;
        const int8_t *w_row = w + (ky0 * filter_w + kx0) * out_c + oc;
        for (int32_t ky = ky0; ky < ky1; ++ky, x_row += in_w * in_c, w_row += filter_w * out_c) {
            const int8_t *xp = x_row;
            const int8_t *wp = w_row;
            for (int32_t kx = kx0; kx < kx1; ++kx, xp += in_c, wp += out_c) {
                acc += (*xp + input_offset) * *wp;
            }
        }
    } else {
        for (int32_t ky = 0; ky < filter_h; ++ky) {
            const int32_t iy = iy0 + ky * dilation_h;
            if (iy < 0 || iy >= in_h) {
                continue;
            }
            const int8_t *row = image + iy * in_w * in_c + ic;
            const int8_t *taps = w + ky * filter_w * out_c + oc;
            for (int32_t kx = 0; kx < filter_w; ++kx) {
                const int32_t ix = ix0 + kx * dilation_w;
                if (ix >= 0 && ix < in_w) {
                    acc += (row[ix * in_c] + input_offset) * taps[kx * out_c];
                }
            }
        }
    }
    if (p->bias32 != NULL) {
        acc += p->bias32[oc];
    }
    const int32_t v = edg_mbqm(acc, p->multiplier[oc], p->shift[oc], p->rounding) + p->output_offset;
    return (int8_t)edg_clamp(v, p->lo, p->hi);
}

/* Filters of up to DW_TAPS_MAX taps without dilation: the taps' input offsets (relative to the
 * window's first pixel, in elements) tabulated once per call, so that output elements whose window
 * lies wholly inside the image take one load-multiply-add per tap. */
enum { DW_TAPS_MAX = 64 };

struct dw_taps {
    int32_t count; /* 0: not tabulated (dilated or large filters) */
    int32_t x_offset[DW_TAPS_MAX]; /* (ky * in_w + kx) * in_c */
    int32_t w_offset[DW_TAPS_MAX]; /* (ky * filter_w + kx) * out_c */
};

static void dw_taps_init(const edg_depthwise_conv_2d_params_t *p, dw_taps_t *t) {
    t->count = 0;
    if (p->dilation_h != 1 || p->dilation_w != 1 || p->filter_h * p->filter_w > DW_TAPS_MAX) {
        return;
    }
    t->count = p->filter_h * p->filter_w;
    for (int32_t ky = 0, k = 0; ky < p->filter_h; ++ky) {
        for (int32_t kx = 0; kx < p->filter_w; ++kx, ++k) {
            t->x_offset[k] = (ky * p->in_w + kx) * p->in_c;
            t->w_offset[k] = (ky * p->filter_w + kx) * p->out_c;
        }
    }
}

static inline int dw_window_inside(const edg_depthwise_conv_2d_params_t *p, const dw_taps_t *t, int32_t iy0,
                                   int32_t ix0) {
    return t->count > 0 && iy0 >= 0 && ix0 >= 0 && iy0 + p->filter_h <= p->in_h && ix0 + p->filter_w <= p->in_w;
}

/* Output (oy, ox, oc) reading input channel ic, its window inside the image (taps tabulated). */
static inline int8_t dw_output_inside_s8(const edg_depthwise_conv_2d_params_t *p, const dw_taps_t *t,
                                         const int8_t *image, const int8_t *w, int32_t iy0, int32_t ix0,
                                         int32_t ic, int32_t oc) {
    const int8_t *xb = image + (iy0 * p->in_w + ix0) * p->in_c + ic;
    const int8_t *wb = w + oc;
    const int32_t input_offset = p->input_offset;
    int32_t acc = 0;
    for (int32_t k = 0; k < t->count; ++k) {
        acc += (xb[t->x_offset[k]] + input_offset) * wb[t->w_offset[k]];
    }
    if (p->bias32 != NULL) {
        acc += p->bias32[oc];
    }
    const int32_t v = edg_mbqm(acc, p->multiplier[oc], p->shift[oc], p->rounding) + p->output_offset;
    return (int8_t)edg_clamp(v, p->lo, p->hi);
}

static inline int16_t dw_output_s16(const edg_depthwise_conv_2d_params_t *p, const int16_t *image, const int8_t *w,
                                    int32_t oy, int32_t ox, int32_t ic, int32_t oc) {
    const int32_t in_h = p->in_h, in_w = p->in_w, in_c = p->in_c, out_c = p->out_c;
    const int32_t filter_h = p->filter_h, filter_w = p->filter_w;
    const int32_t dilation_h = p->dilation_h, dilation_w = p->dilation_w;
    const int32_t input_offset = p->input_offset;
    const int32_t iy0 = oy * p->stride_h - p->pad_h;
    const int32_t ix0 = ox * p->stride_w - p->pad_w;
    int64_t acc = 0;
    for (int32_t ky = 0; ky < filter_h; ++ky) {
        const int32_t iy = iy0 + ky * dilation_h;
        if (iy < 0 || iy >= in_h) {
            continue;
        }
        const int16_t *row = image + iy * in_w * in_c + ic;
        const int8_t *taps = w + ky * filter_w * out_c + oc;
        for (int32_t kx = 0; kx < filter_w; ++kx) {
            const int32_t ix = ix0 + kx * dilation_w;
            if (ix >= 0 && ix < in_w) {
                acc += (int64_t)((row[ix * in_c] + input_offset) * taps[kx * out_c]);
            }
        }
    }
    if (p->bias64 != NULL) {
        acc += p->bias64[oc];
    }
    const int32_t v = edg_mbqm_int64(acc, p->multiplier[oc], p->shift[oc]) + p->output_offset;
    return (int16_t)edg_clamp(v, p->lo, p->hi);
}

/* All out_c channels of output pixel (oy, ox). */
static void dw_pixel_s8(const edg_depthwise_conv_2d_params_t *p, const dw_taps_t *t, const void *image,
                        const int8_t *w, int32_t oy, int32_t ox, void *dst) {
    int8_t *y = dst;
    const int32_t iy0 = oy * p->stride_h - p->pad_h;
    const int32_t ix0 = ox * p->stride_w - p->pad_w;
    const int inside = dw_window_inside(p, t, iy0, ix0);
    int32_t oc = 0;
    for (int32_t ic = 0; ic < p->in_c; ++ic) {
        for (int32_t m = 0; m < p->depth_multiplier; ++m, ++oc) {
            y[oc] = inside ? dw_output_inside_s8(p, t, image, w, iy0, ix0, ic, oc)
                           : dw_output_s8(p, image, w, oy, ox, ic, oc);
        }
    }
}

static void dw_pixel_s16(const edg_depthwise_conv_2d_params_t *p, const dw_taps_t *t, const void *image,
                         const int8_t *w, int32_t oy, int32_t ox, void *dst) {
    int16_t *y = dst;
    (void)t;
    int32_t oc = 0;
    for (int32_t ic = 0; ic < p->in_c; ++ic) {
        for (int32_t m = 0; m < p->depth_multiplier; ++m, ++oc) {
            y[oc] = dw_output_s16(p, image, w, oy, ox, ic, oc);
        }
    }
}

/* In place (depth multiplier 1): channel c of one image into scratch, then over the buffer. The
 * writes land on channel c of earlier (or the same) pixels of this image or on the previous image:
 * bytes no later channel or image reads. */
static void dw_channel_s8(const edg_depthwise_conv_2d_params_t *p, const dw_taps_t *t, const void *image,
                          void *out_image, const int8_t *w, int32_t c, void *scratch) {
    int8_t *plane = scratch;
    int8_t *y = out_image;
    const int32_t pixels = p->out_h * p->out_w;
    int32_t k = 0;
    for (int32_t oy = 0; oy < p->out_h; ++oy) {
        const int32_t iy0 = oy * p->stride_h - p->pad_h;
        for (int32_t ox = 0; ox < p->out_w; ++ox, ++k) {
            const int32_t ix0 = ox * p->stride_w - p->pad_w;
            plane[k] = dw_window_inside(p, t, iy0, ix0) ? dw_output_inside_s8(p, t, image, w, iy0, ix0, c, c)
                                                         : dw_output_s8(p, image, w, oy, ox, c, c);
        }
    }
    for (k = 0; k < pixels; ++k) {
        y[k * p->out_c + c] = plane[k];
    }
}

static void dw_channel_s16(const edg_depthwise_conv_2d_params_t *p, const dw_taps_t *t, const void *image,
                           void *out_image, const int8_t *w, int32_t c, void *scratch) {
    int16_t *plane = scratch;
    (void)t;
    int16_t *y = out_image;
    const int32_t pixels = p->out_h * p->out_w;
    int32_t k = 0;
    for (int32_t oy = 0; oy < p->out_h; ++oy) {
        for (int32_t ox = 0; ox < p->out_w; ++ox, ++k) {
            plane[k] = dw_output_s16(p, image, w, oy, ox, c, c);
        }
    }
    for (k = 0; k < pixels; ++k) {
        y[k * p->out_c + c] = plane[k];
    }
}

static void depthwise(const edg_depthwise_conv_2d_params_t *p, dw_pixel_fn pixel, dw_channel_fn channel,
                      size_t elem, const void *const *in, void *const *out, void *scratch) {
    const uint8_t *x = in[0];
    const int8_t *w = in[1];
    uint8_t *y = out[0];
    const size_t in_image = (size_t)p->in_h * p->in_w * p->in_c * elem;
    const size_t out_image = (size_t)p->out_h * p->out_w * p->out_c * elem;
    dw_taps_t taps;
    dw_taps_init(p, &taps);
    if ((const void *)x == (const void *)y) {
        for (int32_t b = 0; b < p->batches; ++b) {
            for (int32_t c = 0; c < p->out_c; ++c) {
                channel(p, &taps, x + (size_t)b * in_image, y + (size_t)b * out_image, w, c, scratch);
            }
        }
        return;
    }
    const size_t out_pixel = (size_t)p->out_c * elem;
    for (int32_t b = 0; b < p->batches; ++b) {
        const uint8_t *image = x + (size_t)b * in_image;
        uint8_t *dst = y + (size_t)b * out_image;
        for (int32_t oy = 0; oy < p->out_h; ++oy) {
            for (int32_t ox = 0; ox < p->out_w; ++ox, dst += out_pixel) {
                pixel(p, &taps, image, w, oy, ox, dst);
            }
        }
    }
}

void edg_depthwise_conv_2d_s8(const void *params, const void *const *in, void *const *out, void *scratch) {
    depthwise(params, dw_pixel_s8, dw_channel_s8, sizeof(int8_t), in, out, scratch);
}

void edg_depthwise_conv_2d_s16(const void *params, const void *const *in, void *const *out, void *scratch) {
    depthwise(params, dw_pixel_s16, dw_channel_s16, sizeof(int16_t), in, out, scratch);
}
