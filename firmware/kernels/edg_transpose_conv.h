/* TRANSPOSE_CONV: int8 (per-tensor or per-channel weights) and 16x8 (int16 activations, int64 bias and
 * accumulators); SAME or VALID padding, any stride. */
#ifndef EDG_TRANSPOSE_CONV_H
#define EDG_TRANSPOSE_CONV_H

#include "edg_model.h"

typedef struct {
    int32_t batches;
    int32_t in_h, in_w, in_c;    /* the op's (small) input */
    int32_t out_h, out_w, out_c; /* its (large) output */
    int32_t filter_h, filter_w;
    int32_t stride_h, stride_w;
    int32_t pad_h, pad_w; /* leading (top, left) crop of the output */
    int32_t input_offset; /* -input zero point (0 for 16x8) */
    int32_t output_offset;
    int32_t lo, hi;            /* fused activation range */
    int32_t rounding;          /* EDG_ROUND_*; int8 only */
    const int32_t *multiplier; /* per output channel */
    const int32_t *shift;      /* per output channel */
    const int32_t *bias32;     /* int8: per output channel, or NULL */
    const int64_t *bias64;     /* 16x8: per output channel, or NULL */
} edg_transpose_conv_params_t;

/* in: (output shape, unused), weights [out_c][filter_h][filter_w][in_c] int8, input (NHWC), (bias:
 * in params); out: output (NHWC). scratch: one accumulator per output element, int32_t for int8 and
 * int64_t for 16x8. */
void edg_transpose_conv_s8(const void *params, const void *const *in, void *const *out, void *scratch);
void edg_transpose_conv_s16(const void *params, const void *const *in, void *const *out, void *scratch);

#endif
