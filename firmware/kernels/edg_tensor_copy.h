/* Data movement as one strided walk (edg_tensor_walk.h): TRANSPOSE and STRIDED_SLICE copy the walk;
 * PAD and PADV2 fill the output with the pad value, then copy the input into its interior. */
#ifndef EDG_TENSOR_COPY_H
#define EDG_TENSOR_COPY_H

#include <stdint.h>

#include "edg_tensor_walk.h"

typedef struct {
    edg_walk_t walk;
    int32_t elem_bytes;
    int32_t out_count; /* PAD: output elements */
    int32_t pad_value; /* PAD: the padding, in the output's type */
} edg_tensor_copy_params_t;

/* in: input; out: output (never the input's buffer). */
void edg_tensor_copy(const void *params, const void *const *in, void *const *out, void *scratch);
void edg_tensor_pad_s8(const void *params, const void *const *in, void *const *out, void *scratch);
void edg_tensor_pad_s16(const void *params, const void *const *in, void *const *out, void *scratch);

#endif
