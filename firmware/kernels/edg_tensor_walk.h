/* One strided N-d copy for the data-movement kernels (TRANSPOSE, STRIDED_SLICE, PAD): walk an index
 * space of up to EDG_WALK_MAX_RANK axes, reading and writing at per-axis strides (in elements, source
 * strides may be negative). edgeml/codegen/c_walk.py builds the edg_walk_t for each op. */
#ifndef EDG_TENSOR_WALK_H
#define EDG_TENSOR_WALK_H

#include <stdint.h>
#include <string.h>

#define EDG_WALK_MAX_RANK 6

typedef struct {
    int32_t rank; /* >= 1 */
    int32_t shape[EDG_WALK_MAX_RANK];
    int32_t src_stride[EDG_WALK_MAX_RANK];
    int32_t dst_stride[EDG_WALK_MAX_RANK];
    int32_t src_offset, dst_offset;
} edg_walk_t;

static inline void edg_walk_row(const uint8_t *src, int32_t src_step, uint8_t *dst, int32_t dst_step, int32_t n,
                                int32_t elem_bytes) {
    if (src_step == 1 && dst_step == 1) {
        memcpy(dst, src, (size_t)n * (size_t)elem_bytes);
        return;
    }
    for (int32_t i = 0; i < n; ++i) {
        memcpy(dst + (int64_t)i * dst_step * elem_bytes, src + (int64_t)i * src_step * elem_bytes,
               (size_t)elem_bytes);
    }
}

/* Element by element: a position in the walk, started by edg_walk_start and moved by edg_walk_next
 * (0 once the walk is done). For kernels that visit rather than copy (MEAN). */
typedef struct {
    int32_t index[EDG_WALK_MAX_RANK];
    int64_t src, dst;
} edg_walk_pos_t;

static inline void edg_walk_start(const edg_walk_t *w, edg_walk_pos_t *pos) {
    for (int32_t d = 0; d < EDG_WALK_MAX_RANK; ++d) {
        pos->index[d] = 0;
    }
    pos->src = w->src_offset;
    pos->dst = w->dst_offset;
}

static inline int edg_walk_next(const edg_walk_t *w, edg_walk_pos_t *pos) {
    int32_t d = w->rank - 1;
    while (d >= 0 && pos->index[d] >= w->shape[d] - 1) {
        pos->src -= (int64_t)pos->index[d] * w->src_stride[d];
        pos->dst -= (int64_t)pos->index[d] * w->dst_stride[d];
        pos->index[d] = 0;
        --d;
    }
    if (d < 0) {
        return 0;
    }
    ++pos->index[d];
    pos->src += w->src_stride[d];
    pos->dst += w->dst_stride[d];
    return 1;
}

/* Copy every element of the walk from src to dst (which do not overlap). */
static inline void edg_walk_copy(const edg_walk_t *w, const void *src, void *dst, int32_t elem_bytes) {
    const int32_t last = w->rank - 1;
    int32_t index[EDG_WALK_MAX_RANK] = {0};
    for (int32_t d = 0; d < w->rank; ++d) {
        if (w->shape[d] <= 0) {
            return;
        }
    }
    int64_t s = w->src_offset, t = w->dst_offset;
    for (;;) {
        edg_walk_row((const uint8_t *)src + s * elem_bytes, w->src_stride[last], (uint8_t *)dst + t * elem_bytes,
                     w->dst_stride[last], w->shape[last], elem_bytes);
        int32_t d = last - 1;
        /* Odometer over the outer axes, keeping both offsets in step. */
        while (d >= 0 && index[d] == w->shape[d] - 1) {
            s -= (int64_t)index[d] * w->src_stride[d];
            t -= (int64_t)index[d] * w->dst_stride[d];
            index[d] = 0;
            --d;
        }
        if (d < 0) {
            return;
        }
        ++index[d];
        s += w->src_stride[d];
        t += w->dst_stride[d];
    }
}

#endif
