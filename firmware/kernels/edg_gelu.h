/* GELU: int8, as TFLite's table of the 256 input values' results (float32 math done at conversion). */
#ifndef EDG_GELU_H
#define EDG_GELU_H

#include "edg_elementwise.h"

typedef struct {
    int32_t count;       /* elements */
    const int8_t *table; /* result for input q at q + 128 */
} edg_gelu_params_t;

/* in: input; out: output (may be the input's buffer). */
void edg_gelu_s8(const void *params, const void *const *in, void *const *out, void *scratch);

#endif
