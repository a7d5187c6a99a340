/* AVERAGE_POOL_2D and MAX_POOL_2D over NHWC int8 / int16. The window is clipped to the input
 * (padding never counts); the average rounds half away from zero; then the activation clamp.
 * Input and output share their quantization: no requantization. */
#ifndef EDG_POOL2D_H
#define EDG_POOL2D_H

#include <stdint.h>

typedef struct {
    int32_t batches, in_h, in_w, channels, out_h, out_w;
    int32_t filter_h, filter_w, stride_h, stride_w, pad_h, pad_w;
    int32_t lo, hi;
} edg_pool2d_params_t;

/* in: input; out: output (never the input's buffer). */
void edg_pool2d_average_s8(const void *params, const void *const *in, void *const *out, void *scratch);
void edg_pool2d_average_s16(const void *params, const void *const *in, void *const *out, void *scratch);
void edg_pool2d_max_s8(const void *params, const void *const *in, void *const *out, void *scratch);
void edg_pool2d_max_s16(const void *params, const void *const *in, void *const *out, void *scratch);

#endif
