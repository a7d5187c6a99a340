#include "edg_concatenation.h"

#include <string.h>

void edg_concatenation(const void *params, const void *const *in, void *const *out, void *scratch) {
    const edg_concatenation_params_t *p = params;
    uint8_t *dst = out[0];
    (void)scratch;
    for (int32_t o = 0; o < p->outer; ++o) {
        for (int32_t k = 0; k < p->inputs; ++k) {
            const size_t n = (size_t)p->inner_bytes[k];
            memcpy(dst, (const uint8_t *)in[k] + (size_t)o * n, n);
            dst += n;
        }
    }
}
