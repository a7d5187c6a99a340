/* RESHAPE, SQUEEZE, EXPAND_DIMS: the bytes stay. The generator emits a call only when the plan put
 * the output somewhere other than over the input; the copy then tolerates overlap. */
#ifndef EDG_RESHAPE_H
#define EDG_RESHAPE_H

#include <stdint.h>

typedef struct {
    int32_t bytes;
} edg_reshape_params_t;

/* in: input; out: output (may overlap the input). */
void edg_reshape_copy(const void *params, const void *const *in, void *const *out, void *scratch);

#endif
