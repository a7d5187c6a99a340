/* LOGISTIC and TANH: int8, as a table of the 256 input values' results (TFLite's float32 table or
 * TFLite Micro's fixed-point evaluation, both built by edgeml/ops/logistic_tanh.py). */
#ifndef EDG_LOGISTIC_TANH_H
#define EDG_LOGISTIC_TANH_H

#include "edg_elementwise.h"

typedef struct {
    int32_t count;       /* elements */
    const int8_t *table; /* result for input q at q + 128 */
} edg_logistic_tanh_params_t;

/* in: input; out: output (may be the input's buffer). */
void edg_logistic_tanh_s8(const void *params, const void *const *in, void *const *out, void *scratch);

#endif
