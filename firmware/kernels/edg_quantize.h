/* QUANTIZE: float32 -> int8/int16, and requantization int8/int16/int32 -> int8/int16/int32.
 *
 * float32: q = round half away from zero of the float32 quotient x / scale, plus the zero point,
 * clamped (an out-of-range or NaN quotient becomes INT32_MIN first, as on x86, the host the
 * references were measured on). Integer input: (q - z_in) requantized by s_in / s_out in int32
 * arithmetic that wraps like the reference C code; int8 input reads a table of its 256 results. */
#ifndef EDG_QUANTIZE_H
#define EDG_QUANTIZE_H

#include "edg_elementwise.h"

typedef struct {
    int32_t count;        /* elements */
    float scale;          /* float32 input: the output scale */
    int32_t input_offset; /* integer input: its zero point */
    int32_t output_offset;
    int32_t multiplier, shift;
    int32_t rounding; /* EDG_ROUND_* */
    int32_t lo, hi;   /* the output type's range */
    const int8_t *table8;   /* int8 -> int8: result for input q at q + 128 */
    const int16_t *table16; /* int8 -> int16 */
} edg_quantize_params_t;

/* in: input; out: output (never the input's buffer: the types differ or the op is not in place). */
void edg_quantize_f32_s8(const void *params, const void *const *in, void *const *out, void *scratch);
void edg_quantize_f32_s16(const void *params, const void *const *in, void *const *out, void *scratch);
void edg_quantize_s8_s8(const void *params, const void *const *in, void *const *out, void *scratch);
void edg_quantize_s8_s16(const void *params, const void *const *in, void *const *out, void *scratch);
void edg_quantize_s16_s8(const void *params, const void *const *in, void *const *out, void *scratch);
void edg_quantize_s16_s16(const void *params, const void *const *in, void *const *out, void *scratch);
void edg_quantize_s16_s32(const void *params, const void *const *in, void *const *out, void *scratch);
void edg_quantize_s32_s8(const void *params, const void *const *in, void *const *out, void *scratch);
void edg_quantize_s32_s16(const void *params, const void *const *in, void *const *out, void *scratch);
/* uint8 <-> int8 with one scale and zero points 128 apart (an ONNX model's uint8 edges): every byte's
 * top bit flips. */
void edg_quantize_u8_s8(const void *params, const void *const *in, void *const *out, void *scratch);
void edg_quantize_s8_u8(const void *params, const void *const *in, void *const *out, void *scratch);

#endif
