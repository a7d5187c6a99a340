#include "edg_softmax.h"

#include "edg_fixedpoint.h"

enum { ACCUMULATION_INTEGER_BITS = 12 };

/* int8 input: probabilities in units of 2^-output_bits offset by output_min, stored as int8 or int16. */
static void softmax_s8(const edg_softmax_params_t *p, const int8_t *x, int8_t *y8, int16_t *y16) {
    for (int32_t r = 0; r < p->rows; ++r) {
        const int8_t *row = x + (int64_t)r * p->depth;
        int32_t row_max = -128;
        for (int32_t c = 0; c < p->depth; ++c) {
            row_max = row[c] > row_max ? row[c] : row_max;
        }
        int64_t total = 0;
        for (int32_t c = 0; c < p->depth; ++c) {
            total += p->exp_accum_table[row_max - row[c]];
        }
        int32_t bits_over_unit = 0;
        const int64_t scale = edg_get_reciprocal(total, ACCUMULATION_INTEGER_BITS, &bits_over_unit);
        const int32_t exponent = bits_over_unit + 31 - p->output_bits;
        for (int32_t c = 0; c < p->depth; ++c) {
            const int64_t e = p->exp_table[row_max - row[c]];
            int32_t v = p->output_min; /* an exp of 0: below diff_min, or underflowed */
            if (e != 0) {
                const int64_t unsat =
                    edg_rounding_divide_by_pot(edg_saturating_rounding_doubling_high_mul(scale, e), exponent);
                const int64_t shifted = unsat + p->output_min;
                v = (int32_t)(shifted < p->output_min ? p->output_min
                                                     : (shifted > p->output_max ? p->output_max : shifted));
            }
            const int64_t at = (int64_t)r * p->depth + c;
            if (y8 != 0) {
                y8[at] = (int8_t)v;
            } else {
                y16[at] = (int16_t)v;
            }
        }
    }
}

void edg_softmax_s8_s8(const void *params, const void *const *in, void *const *out, void *scratch) {
    (void)scratch;
    softmax_s8(params, in[0], out[0], 0);
}

void edg_softmax_s8_s16(const void *params, const void *const *in, void *const *out, void *scratch) {
    (void)scratch;
    softmax_s8(params, in[0], 0, out[0]);
}

static int32_t exp_s16(const edg_softmax_params_t *p, int32_t diff) {
    const int32_t scaled = edg_mbqm(diff, p->input_multiplier, p->input_shift, p->rounding);
    return edg_lut_lookup_int16(edg_clamp(scaled + 32767, -32768, 32767), p->exp_lut);
}

/* SoftmaxInt16. The exps are computed twice (sum, then scale) rather than kept in scratch. */
void edg_softmax_s16(const void *params, const void *const *in, void *const *out, void *scratch) {
    const edg_softmax_params_t *p = params;
    const int16_t *x = in[0];
    int16_t *y = out[0];
    (void)scratch;
    for (int32_t r = 0; r < p->rows; ++r) {
        const int16_t *row = x + (int64_t)r * p->depth;
        int16_t *dst = y + (int64_t)r * p->depth;
        int32_t row_max = -32768;
        for (int32_t c = 0; c < p->depth; ++c) {
            row_max = row[c] > row_max ? row[c] : row_max;
        }
        int64_t total = 0;
        for (int32_t c = 0; c < p->depth; ++c) {
            total += exp_s16(p, row[c] - row_max);
        }
        const int32_t headroom_plus_one = edg_clz32((uint32_t)total);
        const int64_t shifted_total = ((total << (headroom_plus_one - 1)) + (1 << 13)) >> 14;
        const int64_t centred = shifted_total - (1 << 15) - (1 << 16);
        const int64_t reciprocal =
            edg_lut_lookup_int16((int32_t)(centred < -32768 ? -32768 : (centred > 32767 ? 32767 : centred)),
                                 p->recip_lut);
        const int32_t right_shift = 31 - headroom_plus_one;
        const int64_t half = (int64_t)1 << (right_shift - 1);
        for (int32_t c = 0; c < p->depth; ++c) {
            const int64_t v = ((int64_t)exp_s16(p, row[c] - row_max) * reciprocal + half) >> right_shift;
            dst[c] = (int16_t)(v < 0 ? 0 : (v > 32767 ? 32767 : v));
        }
    }
}
