#include "edg_quantize.h"

/* x / scale rounded half away from zero, as int64; INT32_MIN outside [-2^31, 2^31) or for NaN.
 * Float32 values that far out are integers, so no rounding is lost at the bounds; inside them the
 * truncation q -> t is exact in both directions and q - t is exact (Sterbenz). */
static inline int64_t round_quotient(float x, float scale) {
    const float q = x / scale;
    if (!(q >= -2147483648.0f && q < 2147483648.0f)) {
        return INT32_MIN;
    }
    const int32_t t = (int32_t)q;
    const float fraction = q - (float)t;
    return (int64_t)t + (fraction >= 0.5f ? 1 : 0) - (fraction <= -0.5f ? 1 : 0);
}

/* onnxruntime's QuantizeLinear: x / scale clamped to [lo - zp, hi - zp] (NaN to the low end, as maxps
 * does), rounded half to even, plus the zero point. */
static inline int32_t quantize_float_onnx(const edg_quantize_params_t *p, float x) {
    const float lo = (float)(p->lo - p->output_offset);
    const float hi = (float)(p->hi - p->output_offset);
    float q = x / p->scale;
    q = q >= lo ? q : lo; /* false for NaN too */
    q = q <= hi ? q : hi;
    return edg_round_half_even_f32(q) + p->output_offset;
}

static inline int32_t quantize_float(const edg_quantize_params_t *p, float x) {
    if (p->rounding == EDG_ROUND_FLOAT32) {
        return quantize_float_onnx(p, x);
    }
    return edg_clamp(edg_wrap32(round_quotient(x, p->scale) + p->output_offset), p->lo, p->hi);
}

/* (q - z_in) requantized; int32 wrapping where the reference's int32 arithmetic wraps. */
static inline int32_t requantize(const edg_quantize_params_t *p, int32_t q) {
    int32_t x = edg_wrap32((int64_t)q - p->input_offset);
    int32_t shift = p->shift;
    if (p->rounding == EDG_ROUND_DOUBLE && shift > 0) {
        /* gemmlowp shifts left in int32 before the high multiply */
        x = edg_wrap32((int64_t)((uint32_t)x << shift));
        shift = 0;
    }
    const int64_t scaled = edg_mbqm_wide(x, p->multiplier, shift, p->rounding);
    return edg_clamp(edg_wrap32(scaled + p->output_offset), p->lo, p->hi);
}

void edg_quantize_f32_s8(const void *params, const void *const *in, void *const *out, void *scratch) {
    const edg_quantize_params_t *p = params;
    const float *x = in[0];
    int8_t *y = out[0];
    (void)scratch;
    for (int32_t k = 0; k < p->count; ++k) {
        y[k] = (int8_t)quantize_float(p, x[k]);
    }
}

void edg_quantize_f32_s16(const void *params, const void *const *in, void *const *out, void *scratch) {
    const edg_quantize_params_t *p = params;
    const float *x = in[0];
    int16_t *y = out[0];
    (void)scratch;
    for (int32_t k = 0; k < p->count; ++k) {
        y[k] = (int16_t)quantize_float(p, x[k]);
    }
}

void edg_quantize_s8_s8(const void *params, const void *const *in, void *const *out, void *scratch) {
    const edg_quantize_params_t *p = params;
    (void)scratch;
    edg_lookup_s8_s8(p->table8, in[0], out[0], p->count);
}

void edg_quantize_s8_s16(const void *params, const void *const *in, void *const *out, void *scratch) {
    const edg_quantize_params_t *p = params;
    const int8_t *x = in[0];
    int16_t *y = out[0];
    (void)scratch;
    for (int32_t k = 0; k < p->count; ++k) {
        y[k] = p->table16[x[k] + 128];
    }
}

void edg_quantize_s16_s8(const void *params, const void *const *in, void *const *out, void *scratch) {
    const edg_quantize_params_t *p = params;
    const int16_t *x = in[0];
    int8_t *y = out[0];
    (void)scratch;
    for (int32_t k = 0; k < p->count; ++k) {
        y[k] = (int8_t)requantize(p, x[k]);
    }
}

void edg_quantize_s16_s16(const void *params, const void *const *in, void *const *out, void *scratch) {
    const edg_quantize_params_t *p = params;
    const int16_t *x = in[0];
    int16_t *y = out[0];
    (void)scratch;
    for (int32_t k = 0; k < p->count; ++k) {
        y[k] = (int16_t)requantize(p, x[k]);
    }
}

void edg_quantize_s16_s32(const void *params, const void *const *in, void *const *out, void *scratch) {
    const edg_quantize_params_t *p = params;
    const int16_t *x = in[0];
    int32_t *y = out[0];
    (void)scratch;
    for (int32_t k = 0; k < p->count; ++k) {
        y[k] = requantize(p, x[k]);
    }
}

void edg_quantize_s32_s8(const void *params, const void *const *in, void *const *out, void *scratch) {
    const edg_quantize_params_t *p = params;
    const int32_t *x = in[0];
    int8_t *y = out[0];
    (void)scratch;
    for (int32_t k = 0; k < p->count; ++k) {
        y[k] = (int8_t)requantize(p, x[k]);
    }
}

void edg_quantize_s32_s16(const void *params, const void *const *in, void *const *out, void *scratch) {
    const edg_quantize_params_t *p = params;
    const int32_t *x = in[0];
    int16_t *y = out[0];
    (void)scratch;
    for (int32_t k = 0; k < p->count; ++k) {
        y[k] = (int16_t)requantize(p, x[k]);
    }
}

static void flip_sign_bits(const edg_quantize_params_t *p, const uint8_t *x, uint8_t *y) {
    for (int32_t k = 0; k < p->count; ++k) {
        y[k] = (uint8_t)(x[k] ^ 0x80u);
    }
}

void edg_quantize_u8_s8(const void *params, const void *const *in, void *const *out, void *scratch) {
    (void)scratch;
    flip_sign_bits(params, in[0], out[0]);
}

void edg_quantize_s8_u8(const void *params, const void *const *in, void *const *out, void *scratch) {
    (void)scratch;
    flip_sign_bits(params, in[0], out[0]);
}
