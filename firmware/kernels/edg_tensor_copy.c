#include "edg_tensor_copy.h"

void edg_tensor_copy(const void *params, const void *const *in, void *const *out, void *scratch) {
    const edg_tensor_copy_params_t *p = params;
    (void)scratch;
    edg_walk_copy(&p->walk, in[0], out[0], p->elem_bytes);
}

void edg_tensor_pad_s8(const void *params, const void *const *in, void *const *out, void *scratch) {
    const edg_tensor_copy_params_t *p = params;
    (void)scratch;
    memset(out[0], (int)(int8_t)p->pad_value, (size_t)p->out_count);
    edg_walk_copy(&p->walk, in[0], out[0], 1);
}

void edg_tensor_pad_s16(const void *params, const void *const *in, void *const *out, void *scratch) {
    const edg_tensor_copy_params_t *p = params;
    int16_t *y = out[0];
    (void)scratch;
    for (int32_t i = 0; i < p->out_count; ++i) {
        y[i] = (int16_t)p->pad_value;
    }
    edg_walk_copy(&p->walk, in[0], out[0], 2);
}
