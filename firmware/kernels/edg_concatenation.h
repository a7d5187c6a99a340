/* CONCATENATION along one axis: byte copies (the references never requantize). Each input contributes
 * inner_bytes[k] contiguous bytes to every one of the `outer` slices of the output. */
#ifndef EDG_CONCATENATION_H
#define EDG_CONCATENATION_H

#include <stdint.h>

typedef struct {
    int32_t inputs, outer;
    const int32_t *inner_bytes; /* [inputs] */
} edg_concatenation_params_t;

/* in: the inputs; out: output (never an input's buffer). */
void edg_concatenation(const void *params, const void *const *in, void *const *out, void *scratch);

#endif
