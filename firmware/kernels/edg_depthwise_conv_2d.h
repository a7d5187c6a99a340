/* DEPTHWISE_CONV_2D: int8 (per-tensor or per-channel weights) and 16x8 (int16 activations, int64 bias
 * and accumulators); any depth multiplier, stride, dilation and padding; in place when planned. */
#ifndef EDG_DEPTHWISE_CONV_2D_H
#define EDG_DEPTHWISE_CONV_2D_H

#include "edg_model.h"

typedef struct {
    int32_t batches;
    int32_t in_h, in_w, in_c;
    int32_t out_h, out_w, out_c; /* out_c = in_c * depth_multiplier */
    int32_t filter_h, filter_w;
    int32_t stride_h, stride_w;
    int32_t dilation_h, dilation_w;
    int32_t pad_h, pad_w; /* leading (top, left) padding */
    int32_t depth_multiplier;
    int32_t input_offset; /* -input zero point (0 for 16x8) */
    int32_t output_offset;
    int32_t lo, hi;            /* fused activation range */
    int32_t rounding;          /* EDG_ROUND_*; int8 only */
    const int32_t *multiplier; /* per output channel */
    const int32_t *shift;      /* per output channel */
    const int32_t *bias32;     /* int8: per output channel, or NULL */
    const int64_t *bias64;     /* 16x8: per output channel, or NULL */
} edg_depthwise_conv_2d_params_t;

/* in: input (NHWC), weights [1][filter_h][filter_w][out_c] int8 (the bias travels in params);
 * out: output (NHWC). Output channel oc reads input channel oc / depth_multiplier.
 *
 * When out[0] == in[0] (depth multiplier 1, output no larger than the input) the op runs in place,
 * image by image and channel by channel: one channel's outputs go to scratch (out_h * out_w * 4
 * bytes), then over that channel's input, which nothing reads any more. */
void edg_depthwise_conv_2d_s8(const void *params, const void *const *in, void *const *out, void *scratch);
void edg_depthwise_conv_2d_s16(const void *params, const void *const *in, void *const *out, void *scratch);

#endif
