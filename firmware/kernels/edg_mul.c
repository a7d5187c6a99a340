/* MUL: out = clamp(MBQM((a - za) * (b - zb)) + z_out). */
#include "edg_mul.h"

static inline int64_t mul_one(const edg_mul_params_t *p, int32_t a, int32_t b) {
    const int64_t product = (int64_t)(a + p->offset1) * (b + p->offset2);
    return edg_clamp64(edg_mbqm_wide(product, p->multiplier, p->shift, p->rounding) + p->output_offset, p->lo, p->hi);
}

void edg_mul_s8(const void *params, const void *const *in, void *const *out, void *scratch) {
    const edg_mul_params_t *p = params;
    (void)scratch;
    EDG_BROADCAST_BINARY(int8_t, &p->bc, (const int8_t *)in[0], (const int8_t *)in[1], (int8_t *)out[0],
                         mul_one(p, va, vb));
}

static inline int32_t mul_onnx(const edg_mul_params_t *p, int32_t a, int32_t b) {
    const int32_t product = (a + p->offset1) * (b + p->offset2);
    const float zero_point = (float)(p->output_offset + p->onnx_value_offset);
    const float value = (float)product * p->onnx_ratio + zero_point; /* two roundings: -ffp-contract=off */
    return edg_clamp(edg_round_half_even_f32(value) - p->onnx_value_offset, p->lo, p->hi);
}

void edg_mul_s8_onnx(const void *params, const void *const *in, void *const *out, void *scratch) {
    const edg_mul_params_t *p = params;
    (void)scratch;
    EDG_BROADCAST_BINARY(int8_t, &p->bc, (const int8_t *)in[0], (const int8_t *)in[1], (int8_t *)out[0],
                         mul_onnx(p, va, vb));
}

void edg_mul_s16(const void *params, const void *const *in, void *const *out, void *scratch) {
    const edg_mul_params_t *p = params;
    (void)scratch;
    EDG_BROADCAST_BINARY(int16_t, &p->bc, (const int16_t *)in[0], (const int16_t *)in[1], (int16_t *)out[0],
                         mul_one(p, va, vb));
}
