/* MUL: int8 and int16 (zero points of 0), with broadcasting and fused activations. */
#ifndef EDG_MUL_H
#define EDG_MUL_H

#include "edg_elementwise.h"

typedef struct {
    edg_broadcast_t bc;
    int32_t offset1, offset2; /* -input zero points */
    int32_t multiplier, shift;
    int32_t output_offset;
    int32_t lo, hi;   /* fused activation range */
    int32_t rounding; /* EDG_ROUND_* */
    /* onnxruntime's QLinearMul (edg_mul_s8_onnx): float32(product) * ratio + (z_out + value_offset), rounded
     * half to even, on a uint8 model's zero point when value_offset is 128 */
    float onnx_ratio;
    int32_t onnx_value_offset;
} edg_mul_params_t;

/* in: the two operands; out: the output (may be an operand of the output's shape). */
void edg_mul_s8(const void *params, const void *const *in, void *const *out, void *scratch);
void edg_mul_s16(const void *params, const void *const *in, void *const *out, void *scratch);
void edg_mul_s8_onnx(const void *params, const void *const *in, void *const *out, void *scratch);

#endif
