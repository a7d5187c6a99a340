/* CONV_2D: int8 x int8 -> int8 (per-tensor or per-channel weights) and 16x8 (int16 x int8 -> int16,
 * int64 bias and accumulators); any stride, dilation and padding; in place when the plan says so. */
#ifndef EDG_CONV_2D_H
#define EDG_CONV_2D_H

#include "edg_model.h"

typedef struct {
    int32_t batches;
    int32_t in_h, in_w, in_c;
    int32_t out_h, out_w, out_c;
    int32_t filter_h, filter_w;
    int32_t stride_h, stride_w;
    int32_t dilation_h, dilation_w;
    int32_t pad_h, pad_w; /* leading (top, left) padding */
    int32_t input_offset; /* -input zero point (0 for 16x8) */
    int32_t output_offset;
    int32_t lo, hi;            /* fused activation range */
    int32_t rounding;          /* EDG_ROUND_*; int8 only */
    const int32_t *multiplier; /* per output channel */
    const int32_t *shift;      /* per output channel */
    const int32_t *bias32;     /* int8: per output channel, or NULL */
    const int64_t *bias64;     /* 16x8: per output channel, or NULL */
} edg_conv_2d_params_t;

/* in: input (NHWC), weights [out_c][filter_h][filter_w][in_c] int8 (the bias travels in params);
 * out: output (NHWC).
 *
 * When out[0] == in[0] the plan runs the op in place and scratch holds its inplace_scratch_bytes:
 * a 1x1 stride-1 convolution then goes pixel by pixel (forwards, or backwards when the output is
 * wider than the input), a same-shape convolution row by row keeping copies of the input rows it
 * still needs (of the input pixels, for a 1xK filter). */
void edg_conv_2d_s8(const void *params, const void *const *in, void *const *out, void *scratch);
void edg_conv_2d_s16(const void *params, const void *const *in, void *const *out, void *scratch);

#endif
