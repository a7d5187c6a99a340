#include "edg_pool2d.h"

/* The part [*f0, *f1) of a filter placed at output o that lies inside the input; returns its origin. */
static int32_t window(int32_t o, int32_t stride, int32_t pad, int32_t filter, int32_t size, int32_t *f0,
                      int32_t *f1) {
    const int32_t origin = o * stride - pad;
    *f0 = origin < 0 ? -origin : 0;
    *f1 = size - origin < filter ? size - origin : filter;
    return origin;
}

static int32_t clamp32(int64_t v, int32_t lo, int32_t hi) {
    return (int32_t)(v < lo ? lo : (v > hi ? hi : v));
}

/* One kernel per (reduction, type): EDG_POOL_WINDOWS visits each output element's clipped window. */
#define EDG_POOL_WINDOWS(T, BODY)                                                                            \
    const edg_pool2d_params_t *p = params;                                                                   \
    const T *x = in[0];                                                                                      \
    T *y = out[0];                                                                                           \
    (void)scratch;                                                                                           \
    for (int32_t n = 0; n < p->batches; ++n) {                                                               \
        for (int32_t oy = 0; oy < p->out_h; ++oy) {                                                          \
            int32_t fy0, fy1;                                                                                \
            const int32_t y0 = window(oy, p->stride_h, p->pad_h, p->filter_h, p->in_h, &fy0, &fy1);         \
            for (int32_t ox = 0; ox < p->out_w; ++ox) {                                                      \
                int32_t fx0, fx1;                                                                            \
                const int32_t x0 = window(ox, p->stride_w, p->pad_w, p->filter_w, p->in_w, &fx0, &fx1);     \
                /* May point before the row; only in-window elements are read. As an index, not a pointer. */ \
                const int64_t base = (((int64_t)n * p->in_h + y0) * p->in_w + x0) * p->channels;            \
                T *dst = y + (((int64_t)n * p->out_h + oy) * p->out_w + ox) * p->channels;                   \
                for (int32_t c = 0; c < p->channels; ++c) {                                                  \
                    BODY                                                                                     \
                }                                                                                            \
            }                                                                                                \
        }                                                                                                    \
    }

#define EDG_AVERAGE_BODY(T)                                                                                  \
    int64_t total = 0;                                                                                       \
    for (int32_t fy = fy0; fy < fy1; ++fy) {                                                                 \
        for (int32_t fx = fx0; fx < fx1; ++fx) {                                                             \
            total += x[base + ((int64_t)fy * p->in_w + fx) * p->channels + c];                                   \
        }                                                                                                    \
    }                                                                                                        \
    const int64_t count = (int64_t)(fy1 - fy0) * (fx1 - fx0);                                                \
    const int64_t half = count / 2;                                                                          \
    const int64_t mean = total > 0 ? (total + half) / count : -((half - total) / count);                    \
    dst[c] = (T)clamp32(mean, p->lo, p->hi);

#define EDG_MAX_BODY(T, LOWEST)                                                                              \
    int32_t best = LOWEST;                                                                                   \
    for (int32_t fy = fy0; fy < fy1; ++fy) {                                                                 \
        for (int32_t fx = fx0; fx < fx1; ++fx) {                                                             \
            const int32_t v = x[base + ((int64_t)fy * p->in_w + fx) * p->channels + c];                          \
            best = v > best ? v : best;                                                                      \
        }                                                                                                    \
    }                                                                                                        \
    dst[c] = (T)clamp32(best, p->lo, p->hi);

void edg_pool2d_average_s8(const void *params, const void *const *in, void *const *out, void *scratch) {
    EDG_POOL_WINDOWS(int8_t, EDG_AVERAGE_BODY(int8_t))
}

void edg_pool2d_average_s16(const void *params, const void *const *in, void *const *out, void *scratch) {
    EDG_POOL_WINDOWS(int16_t, EDG_AVERAGE_BODY(int16_t))
}

void edg_pool2d_max_s8(const void *params, const void *const *in, void *const *out, void *scratch) {
    EDG_POOL_WINDOWS(int8_t, EDG_MAX_BODY(int8_t, INT8_MIN))
}

void edg_pool2d_max_s16(const void *params, const void *const *in, void *const *out, void *scratch) {
    EDG_POOL_WINDOWS(int16_t, EDG_MAX_BODY(int16_t, INT16_MIN))
}
