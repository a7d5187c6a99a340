#include "edg_float_unary.h"

/* Negation flips the sign bit, NaNs and zeros included, as the host's fneg does; done on the bits,
 * so a core without an FPU needs no soft-float call. */
void edg_float_unary_neg_f32(const void *params, const void *const *in, void *const *out, void *scratch) {
    const edg_float_unary_params_t *p = params;
    const uint32_t *x = in[0];
    uint32_t *y = out[0];
    (void)scratch;
    for (int32_t k = 0; k < p->count; ++k) {
        y[k] = x[k] ^ UINT32_C(0x80000000);
    }
}
