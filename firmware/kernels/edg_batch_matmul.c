#include "edg_batch_matmul.h"

#include "edg_requant.h"

void edg_batch_matmul_s8(const void *params, const void *const *in, void *const *out, void *scratch) {
    const edg_batch_matmul_params_t *p = params;
    const int8_t *x = in[0];
    const int8_t *w = in[1];
    int8_t *y = out[0];
    (void)scratch;
    for (int32_t b0 = 0; b0 < p->batch[0]; ++b0) {
        for (int32_t b1 = 0; b1 < p->batch[1]; ++b1) {
            for (int32_t b2 = 0; b2 < p->batch[2]; ++b2) {
                const int8_t *lhs = x + (int64_t)b0 * p->lhs_batch_stride[0] + (int64_t)b1 * p->lhs_batch_stride[1] +
                                    (int64_t)b2 * p->lhs_batch_stride[2];
                const int8_t *rhs = w + (int64_t)b0 * p->rhs_batch_stride[0] + (int64_t)b1 * p->rhs_batch_stride[1] +
                                    (int64_t)b2 * p->rhs_batch_stride[2];
                for (int32_t i = 0; i < p->rows; ++i) {
                    const int8_t *row = lhs + (int64_t)i * p->lhs_row_stride;
                    for (int32_t j = 0; j < p->cols; ++j) {
                        const int8_t *col = rhs + (int64_t)j * p->rhs_col_stride;
                        int32_t acc = 0;
                        for (int32_t k = 0; k < p->depth; ++k) {
                            acc += (row[(int64_t)k * p->lhs_depth_stride] - p->lhs_zero_point) *
                                   (col[(int64_t)k * p->rhs_depth_stride] - p->rhs_zero_point);
                        }
                        const int32_t v = edg_mbqm(acc, p->multiplier, p->shift, p->rounding) + p->output_zero_point;
                        *y++ = (int8_t)edg_clamp(v, p->lo, p->hi);
                    }
                }
            }
        }
    }
}
