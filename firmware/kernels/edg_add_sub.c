/* ADD / SUB: each input rescaled to twice the larger input scale, summed, requantized to the output. */
#include "edg_add_sub.h"

static inline int64_t combine(const edg_add_sub_params_t *p, int64_t x1, int64_t x2) {
    int64_t raw = x1 + p->sign * x2;
    if (!p->pot) {
        raw = edg_mbqm_wide(raw, p->output_multiplier, p->output_shift, p->rounding) + p->output_offset;
    }
    return edg_clamp64(raw, p->lo, p->hi);
}

static inline int64_t scale_input(const edg_add_sub_params_t *p, int32_t q, int32_t offset, int32_t multiplier,
                                  int32_t shift, int32_t pot_shift) {
    if (p->pot) {
        return edg_rounding_divide_by_pot(q, pot_shift);
    }
    return edg_mbqm_wide((int64_t)(q + offset) * ((int64_t)1 << p->left_shift), multiplier, shift, p->rounding);
}

void edg_add_sub_s8(const void *params, const void *const *in, void *const *out, void *scratch) {
    const edg_add_sub_params_t *p = params;
    (void)scratch;
    EDG_BROADCAST_BINARY(int8_t, &p->bc, (const int8_t *)in[0], (const int8_t *)in[1], (int8_t *)out[0],
                         combine(p, p->scaled1[va + 128], p->scaled2[vb + 128]));
}

static inline int32_t add_onnx(const edg_add_sub_params_t *p, int32_t a, int32_t b) {
    const float va = (float)(a + p->onnx_value_offset);
    const float vb = (float)(b + p->onnx_value_offset);
    const float value = p->onnx_a_scalar ? edg_fmaf(vb, p->onnx_ratio2, edg_fmaf(va, p->onnx_ratio1, p->onnx_fixed))
                                         : edg_fmaf(va, p->onnx_ratio1, edg_fmaf(vb, p->onnx_ratio2, p->onnx_fixed));
    return edg_clamp(edg_round_half_even_f32(value) - p->onnx_value_offset, p->lo, p->hi);
}

void edg_add_s8_onnx(const void *params, const void *const *in, void *const *out, void *scratch) {
    const edg_add_sub_params_t *p = params;
    (void)scratch;
    EDG_BROADCAST_BINARY(int8_t, &p->bc, (const int8_t *)in[0], (const int8_t *)in[1], (int8_t *)out[0],
                         add_onnx(p, va, vb));
}

void edg_add_sub_s16(const void *params, const void *const *in, void *const *out, void *scratch) {
    const edg_add_sub_params_t *p = params;
    (void)scratch;
    EDG_BROADCAST_BINARY(int16_t, &p->bc, (const int16_t *)in[0], (const int16_t *)in[1], (int16_t *)out[0],
                         combine(p, scale_input(p, va, p->offset1, p->multiplier1, p->shift1, p->pot_shift1),
                                 scale_input(p, vb, p->offset2, p->multiplier2, p->shift2, p->pot_shift2)));
}
