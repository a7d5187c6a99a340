#include "edg_dequantize.h"

void edg_dequantize_s8(const void *params, const void *const *in, void *const *out, void *scratch) {
    const edg_dequantize_params_t *p = params;
    const int8_t *x = in[0];
    float *y = out[0];
    (void)scratch;
    for (int32_t k = 0; k < p->count; ++k) {
        y[k] = p->table[x[k] + 128];
    }
}

/* The references round the double product scale * (q - zp) to float32. With a float32 scale and
 * |q - zp| <= 2^24 (checked by the emitter) that product is exact in double, so one float32
 * multiplication (correctly rounded by IEEE 754) gives the same float. */
void edg_dequantize_s16(const void *params, const void *const *in, void *const *out, void *scratch) {
    const edg_dequantize_params_t *p = params;
    const int16_t *x = in[0];
    float *y = out[0];
    (void)scratch;
    for (int32_t k = 0; k < p->count; ++k) {
        y[k] = p->scale * (float)(x[k] - p->zero_point);
    }
}
