/* FULLY_CONNECTED: int8 x int8 -> int8 (per-tensor or per-channel) and int16 x int8 -> int16. */
#ifndef EDG_FULLY_CONNECTED_H
#define EDG_FULLY_CONNECTED_H

#include "edg_model.h"

typedef struct {
    int32_t rows;     /* input elements / depth */
    int32_t depth;    /* accumulation depth */
    int32_t channels; /* output channels */
    int32_t input_offset;
    int32_t filter_offset;
    int32_t output_offset;
    int32_t lo, hi;
    int32_t rounding;          /* EDG_ROUND_*; int8 only */
    const int32_t *multiplier; /* per channel */
    const int32_t *shift;      /* per channel */
    const int32_t *bias32;     /* int8: per channel, or NULL */
    const int64_t *bias64;     /* int16: per channel, or NULL */
} edg_fully_connected_params_t;

/* in: input, weights [channels][depth] int8, (bias: passed through params); out: output. */
void edg_fully_connected_s8(const void *params, const void *const *in, void *const *out, void *scratch);
void edg_fully_connected_s16(const void *params, const void *const *in, void *const *out, void *scratch);

#endif
