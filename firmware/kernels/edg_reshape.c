#include "edg_reshape.h"

#include <string.h>

void edg_reshape_copy(const void *params, const void *const *in, void *const *out, void *scratch) {
    const edg_reshape_params_t *p = params;
    (void)scratch;
    if (in[0] != out[0]) {
        memmove(out[0], in[0], (size_t)p->bytes);
    }
}
