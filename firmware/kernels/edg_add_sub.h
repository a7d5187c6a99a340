/* ADD and SUB: int8 and int16, with broadcasting and fused activations (one kernel, sign = +-1). */
#ifndef EDG_ADD_SUB_H
#define EDG_ADD_SUB_H

#include "edg_elementwise.h"

typedef struct {
    edg_broadcast_t bc;
    int32_t sign;       /* +1 ADD, -1 SUB */
    int32_t pot;        /* int16, TFLite, power-of-two scales: inputs shifted right, no output rescale */
    int32_t left_shift; /* 20 (int8) or 15 (int16) */
    int32_t offset1, offset2; /* -input zero points */
    int32_t multiplier1, shift1, multiplier2, shift2;
    int32_t pot_shift1, pot_shift2;
    int32_t output_multiplier, output_shift, output_offset;
    int32_t lo, hi; /* fused activation range */
    int32_t rounding; /* EDG_ROUND_* */
    /* int8: each input value's rescaled contribution to the sum, indexed by q + 128 */
    const int32_t *scaled1;
    const int32_t *scaled2;
    /* onnxruntime's QLinearAdd (edg_add_s8_onnx): fma(a, ratio1, fma(b, ratio2, fixed)) on the stored
     * values (q + value_offset), or fma(b, ratio2, fma(a, ratio1, fixed)) when a repeats (a_scalar). */
    float onnx_fixed, onnx_ratio1, onnx_ratio2;
    int32_t onnx_value_offset;
    int32_t onnx_a_scalar;
} edg_add_sub_params_t;

/* in: the two operands; out: the output (may be an operand of the output's shape). */
void edg_add_sub_s8(const void *params, const void *const *in, void *const *out, void *scratch);
void edg_add_sub_s16(const void *params, const void *const *in, void *const *out, void *scratch);
void edg_add_s8_onnx(const void *params, const void *const *in, void *const *out, void *scratch);

#endif
