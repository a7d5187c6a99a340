/* CONV_2D reference kernels: one output pixel at a time, one int32 (int8) or int64 (16x8) accumulator
 * per output channel, requantized with the plan's rounding as soon as it is complete.
 *
 * Taps that fall outside the image are skipped, which is what the references do (a padded input is
 * zero after the input offset is added). The pixel functions read the input through a conv_source_t
 * so that the in-place runs can serve overwritten pixels from their saved copies. */
#include "edg_conv_2d.h"

#include <string.h>

#include "edg_dot.h"
#include "edg_requant.h"

/* The input pixels of one image: in the arena, except pixels [saved_first, saved_first + saved_count)
 * (image pixel numbers, row-major), which an in-place run has copied aside before overwriting them. */
typedef struct {
    const void *image;
    const void *saved;
    int32_t saved_first;
    int32_t saved_count;
} conv_source_t;

typedef void (*conv_pixel_fn)(const edg_conv_2d_params_t *p, const conv_source_t *src, const int8_t *w,
                              int32_t oy, int32_t ox, void *dst);

static inline const int8_t *pixel_s8(const conv_source_t *src, int32_t q, int32_t in_c) {
    const int32_t k = q - src->saved_first;
    if (k >= 0 && k < src->saved_count) {
        return (const int8_t *)src->saved + k * in_c;
    }
    return (const int8_t *)src->image + q * in_c;
}

static inline const int16_t *pixel_s16(const conv_source_t *src, int32_t q, int32_t in_c) {
    const int32_t k = q - src->saved_first;
    if (k >= 0 && k < src->saved_count) {
        return (const int16_t *)src->saved + k * in_c;
    }
    return (const int16_t *)src->image + q * in_c;
}

/* Pixels [q, q + count) of one image row as one contiguous run, or NULL when the run straddles the
 * boundary of the saved pixels (an in-place run's ring of copies). */
static inline const int8_t *run_s8(const conv_source_t *src, int32_t q, int32_t count, int32_t in_c) {
    const int32_t k = q - src->saved_first;
    if (k >= 0 && k + count <= src->saved_count) {
        return (const int8_t *)src->saved + k * in_c;
    }
    if (k + count <= 0 || k >= src->saved_count) {
        return (const int8_t *)src->image + q * in_c;
    }
    return NULL;
}

/* Bias, requantization and clamp of output channel oc. */
static inline int8_t conv_finish_s8(const edg_conv_2d_params_t *p, int32_t oc, int32_t acc) {
    if (p->bias32 != NULL) {
        acc += p->bias32[oc];
    }
    const int32_t v = edg_mbqm(acc, p->multiplier[oc], p->shift[oc], p->rounding) + p->output_offset;
    return (int8_t)edg_clamp(v, p->lo, p->hi);
}

/* Windows up to this many bytes are gathered once per output pixel (on the stack), taps outside the
 * image set to the input zero point, whose offset input is 0: exactly the references' skipped taps.
 * Every output channel is then one dot product over the whole window, two channels at a time. */
enum { CONV_GATHER_MAX = 1152 };

static void conv_pixel_gathered_s8(const edg_conv_2d_params_t *p, const conv_source_t *src, const int8_t *w,
                                   int32_t oy, int32_t ox, int8_t *y) {
    int8_t window[CONV_GATHER_MAX];
    const int32_t in_c = p->in_c;
    const int32_t iy0 = oy * p->stride_h - p->pad_h;
    const int32_t ix0 = ox * p->stride_w - p->pad_w;
    const int32_t filter_size = p->filter_h * p->filter_w * in_c;
    int8_t *col = window;
    for (int32_t ky = 0; ky < p->filter_h; ++ky) {
        const int32_t iy = iy0 + ky * p->dilation_h;
        for (int32_t kx = 0; kx < p->filter_w; ++kx, col += in_c) {
            const int32_t ix = ix0 + kx * p->dilation_w;
            if (iy < 0 || iy >= p->in_h || ix < 0 || ix >= p->in_w) {
                memset(col, (int)(int8_t)(-p->input_offset), (size_t)in_c);
            } else {
                memcpy(col, pixel_s8(src, iy * p->in_w + ix, in_c), (size_t)in_c);
            }
        }
    }
    int32_t oc = 0;
    for (; oc + 2 <= p->out_c; oc += 2) {
        int32_t acc0 = 0, acc1 = 0;
        edg_dot2_s8(window, w + oc * filter_size, w + (oc + 1) * filter_size, filter_size, p->input_offset, 0,
                    &acc0, &acc1);
        y[oc] = conv_finish_s8(p, oc, acc0);
        y[oc + 1] = conv_finish_s8(p, oc + 1, acc1);
    }
    if (oc < p->out_c) {
        y[oc] = conv_finish_s8(p, oc, edg_dot_s8(window, w + oc * filter_size, filter_size, p->input_offset, 0));
    }
}

/* Output pixel (oy, ox) of the image in src, all out_c channels, into dst (int8_t[out_c]). Small windows
 * are gathered; in larger ones each filter row's in-image taps are one contiguous run of input and
 * weights (without dilation): one dot product. */
static void conv_pixel_s8(const edg_conv_2d_params_t *p, const conv_source_t *src, const int8_t *w, int32_t oy,
                          int32_t ox, void *dst) {
    int8_t *y = dst;
    const int32_t in_h = p->in_h, in_w = p->in_w, in_c = p->in_c;
    const int32_t filter_h = p->filter_h, filter_w = p->filter_w;
    const int32_t dilation_h = p->dilation_h, dilation_w = p->dilation_w;
    const int32_t input_offset = p->input_offset;
    const int32_t iy0 = oy * p->stride_h - p->pad_h;
    const int32_t ix0 = ox * p->stride_w - p->pad_w;
    const int32_t filter_size = filter_h * filter_w * in_c;
    if (filter_size <= CONV_GATHER_MAX) {
        conv_pixel_gathered_s8(p, src, w, oy, ox, y);
        return;
    }
    /* Taps kx in [kx0, kx1) fall inside the row (dilation 1). */
    const int32_t kx0 = ix0 < 0 ? -ix0 : 0;
    const int32_t kx1 = in_w - ix0 < filter_w ? in_w - ix0 : filter_w;
    for (int32_t oc = 0; oc < p->out_c; ++oc) {
        const int8_t *wc = w + oc * filter_size;
        int32_t acc = 0;
        for (int32_t ky = 0; ky < filter_h; ++ky) {
            const int32_t iy = iy0 + ky * dilation_h;
            if (iy < 0 || iy >= in_h) {
                continue;
            }
            const int8_t *run = dilation_w == 1 && kx1 > kx0 ? run_s8(src, iy * in_w + ix0 + kx0, kx1 - kx0, in_c)
                                                             : NULL;
            if (run != NULL) {
                acc += edg_dot_s8(run, wc + (ky * filter_w + kx0) * in_c, (kx1 - kx0) * in_c, input_offset, 0);
                continue;
            }
            for (int32_t kx = 0; kx < filter_w; ++kx) {
                const int32_t ix = ix0 + kx * dilation_w;
                if (ix < 0 || ix >= in_w) {
                    continue;
                }
                const int8_t *xp = pixel_s8(src, iy * in_w + ix, in_c);
                acc += edg_dot_s8(xp, wc + (ky * filter_w + kx) * in_c, in_c, input_offset, 0);
            }
        }
        y[oc] = conv_finish_s8(p, oc, acc);
    }
}

/* The 16x8 twin: int16 activations, int64 accumulators, the reduced-multiplier requantization. */
static void conv_pixel_s16(const edg_conv_2d_params_t *p, const conv_source_t *src, const int8_t *w, int32_t oy,
                           int32_t ox, void *dst) {
    int16_t *y = dst;
    const int32_t in_h = p->in_h, in_w = p->in_w, in_c = p->in_c;
    const int32_t filter_h = p->filter_h, filter_w = p->filter_w;
    const int32_t dilation_h = p->dilation_h, dilation_w = p->dilation_w;
    const int32_t input_offset = p->input_offset;
    const int32_t iy0 = oy * p->stride_h - p->pad_h;
    const int32_t ix0 = ox * p->stride_w - p->pad_w;
    const int32_t filter_size = filter_h * filter_w * in_c;
    for (int32_t oc = 0; oc < p->out_c; ++oc) {
        const int8_t *wc = w + oc * filter_size;
        int64_t acc = 0;
        for (int32_t ky = 0; ky < filter_h; ++ky) {
            const int32_t iy = iy0 + ky * dilation_h;
            if (iy < 0 || iy >= in_h) {
                continue;
            }
            for (int32_t kx = 0; kx < filter_w; ++kx) {
                const int32_t ix = ix0 + kx * dilation_w;
                if (ix < 0 || ix >= in_w) {
                    continue;
                }
                const int16_t *xp = pixel_s16(src, iy * in_w + ix, in_c);
                const int8_t *wp = wc + (ky * filter_w + kx) * in_c;
                for (int32_t ic = 0; ic < in_c; ++ic) {
                    acc += (int64_t)((xp[ic] + input_offset) * wp[ic]);
                }
            }
        }
        if (p->bias64 != NULL) {
            acc += p->bias64[oc];
        }
        const int32_t v = edg_mbqm_int64(acc, p->multiplier[oc], p->shift[oc]) + p->output_offset;
        y[oc] = (int16_t)edg_clamp(v, p->lo, p->hi);
    }
}

/* 1x1 stride 1 in place: each output pixel lands in scratch (out_c elements), then over the buffer.
 * Output pixel n covers bytes [n * out_c, (n + 1) * out_c) (in elements): with out_c <= in_c only
 * input pixels <= n, consumed when going forwards; with out_c > in_c only input pixels >= n,
 * consumed when going backwards. Pixels run across batches (1x1: no padding, no window). */
static void conv_pointwise_inplace(const edg_conv_2d_params_t *p, conv_pixel_fn pixel, size_t elem, uint8_t *buf,
                                   const int8_t *w, uint8_t *scratch) {
    const int32_t pixels = p->batches * p->in_h * p->in_w;
    const size_t in_bytes = (size_t)p->in_c * elem;
    const size_t out_bytes = (size_t)p->out_c * elem;
    const int forwards = p->out_c <= p->in_c;
    for (int32_t i = 0; i < pixels; ++i) {
        const int32_t n = forwards ? i : pixels - 1 - i;
        /* Pixel n seen as pixel (0, 0) of a 1x1 image: the window is just that pixel. */
        const conv_source_t src = {buf + (size_t)n * in_bytes, NULL, 0, 0};
        pixel(p, &src, w, 0, 0, scratch);
        memcpy(buf + (size_t)n * out_bytes, scratch, out_bytes);
    }
}

/* Same-shape (stride 1, no dilation, SAME) in place, image by image, output pixel q overwriting input
 * pixel q in row-major order. Output row y reads input rows y - pad_h .. y + filter_h - 1 - pad_h:
 * the rows above y are gone and row y is going, so the last pad_h + 1 rows are kept in scratch,
 * appended one row before it is overwritten (at most filter_h - 1 rows). A 1xK filter needs only
 * the last pad_w + 1 pixels, kept the same way. */
static void conv_same_shape_inplace(const edg_conv_2d_params_t *p, conv_pixel_fn pixel, size_t elem, uint8_t *buf,
                                    const int8_t *w, uint8_t *scratch) {
    const int by_rows = p->filter_h > 1;
    const int32_t unit = by_rows ? p->in_w : 1; /* pixels appended at a time */
    const int32_t keep = (by_rows ? p->pad_h : p->pad_w) + 1;
    const size_t pixel_bytes = (size_t)p->in_c * elem;
    const size_t unit_bytes = (size_t)unit * pixel_bytes;
    const size_t image_bytes = (size_t)p->in_h * p->in_w * pixel_bytes;
    for (int32_t b = 0; b < p->batches; ++b) {
        uint8_t *image = buf + (size_t)b * image_bytes;
        conv_source_t src = {image, scratch, 0, 0};
        for (int32_t oy = 0; oy < p->out_h; ++oy) {
            for (int32_t ox = 0; ox < p->out_w; ++ox) {
                const int32_t q = oy * p->in_w + ox;
                if (!by_rows || ox == 0) {
                    if (src.saved_count == keep * unit) { /* drop the oldest unit */
                        memmove(scratch, scratch + unit_bytes, (size_t)(keep - 1) * unit_bytes);
                        src.saved_first += unit;
                        src.saved_count -= unit;
                    }
                    memcpy(scratch + (size_t)src.saved_count * pixel_bytes, image + (size_t)q * pixel_bytes,
                           unit_bytes);
                    src.saved_count += unit;
                }
                pixel(p, &src, w, oy, ox, image + (size_t)q * pixel_bytes);
            }
        }
    }
}

static void conv_2d(const edg_conv_2d_params_t *p, conv_pixel_fn pixel, size_t elem, const void *const *in,
                    void *const *out, void *scratch) {
    const uint8_t *x = in[0];
    const int8_t *w = in[1];
    uint8_t *y = out[0];
    if ((const void *)x == (const void *)y) {
        if (p->filter_h == 1 && p->filter_w == 1 && p->stride_h == 1 && p->stride_w == 1) {
            conv_pointwise_inplace(p, pixel, elem, y, w, scratch);
        } else {
            conv_same_shape_inplace(p, pixel, elem, y, w, scratch);
        }
        return;
    }
    const size_t in_image = (size_t)p->in_h * p->in_w * p->in_c * elem;
    const size_t out_pixel = (size_t)p->out_c * elem;
    for (int32_t b = 0; b < p->batches; ++b) {
        const conv_source_t src = {x + (size_t)b * in_image, NULL, 0, 0};
        for (int32_t oy = 0; oy < p->out_h; ++oy) {
            uint8_t *row = y + (size_t)((b * p->out_h + oy) * p->out_w) * out_pixel;
            for (int32_t ox = 0; ox < p->out_w; ++ox) {
                pixel(p, &src, w, oy, ox, row + (size_t)ox * out_pixel);
            }
        }
    }
}

void edg_conv_2d_s8(const void *params, const void *const *in, void *const *out, void *scratch) {
    conv_2d(params, conv_pixel_s8, sizeof(int8_t), in, out, scratch);
}

void edg_conv_2d_s16(const void *params, const void *const *in, void *const *out, void *scratch) {
    conv_2d(params, conv_pixel_s16, sizeof(int16_t), in, out, scratch);
}
