/* BATCH_MATMUL, int8: out[b, i, j] = clamp(MBQM(sum_k (x[b, i, k] - zx) (y[b, k, j] - zy)) + zo) with
 * adj_x / adj_y expressed as element strides and broadcast batch axes as batch strides of 0. */
#ifndef EDG_BATCH_MATMUL_H
#define EDG_BATCH_MATMUL_H

#include <stdint.h>

#define EDG_BATCH_MATMUL_MAX_BATCH_RANK 3

typedef struct {
    int32_t batch[EDG_BATCH_MATMUL_MAX_BATCH_RANK]; /* output batch axes, padded in front with 1 */
    int32_t lhs_batch_stride[EDG_BATCH_MATMUL_MAX_BATCH_RANK];
    int32_t rhs_batch_stride[EDG_BATCH_MATMUL_MAX_BATCH_RANK];
    int32_t rows, cols, depth;
    int32_t lhs_row_stride, lhs_depth_stride; /* x[i, k] */
    int32_t rhs_depth_stride, rhs_col_stride; /* y[k, j] */
    int32_t lhs_zero_point, rhs_zero_point, output_zero_point;
    int32_t multiplier, shift, rounding;
    int32_t lo, hi;
} edg_batch_matmul_params_t;

/* in: lhs, rhs; out: output (never an operand's buffer). */
void edg_batch_matmul_s8(const void *params, const void *const *in, void *const *out, void *scratch);

#endif
