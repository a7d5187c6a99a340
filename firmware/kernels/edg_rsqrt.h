/* RSQRT: int8, as a table of the 256 input values' results (built by edgeml/ops/rsqrt.py). */
#ifndef EDG_RSQRT_H
#define EDG_RSQRT_H

#include "edg_elementwise.h"

typedef struct {
    int32_t count;       /* elements */
    const int8_t *table; /* result for input q at q + 128 */
} edg_rsqrt_params_t;

/* in: input; out: output (may be the input's buffer). */
void edg_rsqrt_s8(const void *params, const void *const *in, void *const *out, void *scratch);

#endif
