/* Float islands: one-input float32 ops left inside int8 models (NEG). */
#ifndef EDG_FLOAT_UNARY_H
#define EDG_FLOAT_UNARY_H

#include "edg_model.h"

typedef struct {
    int32_t count; /* elements */
} edg_float_unary_params_t;

/* in: float32 input; out: float32 output (may be the input's buffer). */
void edg_float_unary_neg_f32(const void *params, const void *const *in, void *const *out, void *scratch);

#endif
