/* Helpers shared by the element-wise kernels (header only): the broadcast walk, requantization of
 * int64 values, int32 wrapping and 8-bit table lookups.
 *
 * Broadcasting: edgeml merges the output's dimensions that both operands walk the same way
 * (edgeml/ops/elementwise.py, merged_dims). The last merged dimension is walked as a run with a
 * fixed step per operand (1, or 0 for a repeated element); the outer ones as an odometer. The output
 * is written in order, so an output that shares an input's buffer (an input of the output's full
 * shape) only ever overwrites the element just read. */
#ifndef EDG_ELEMENTWISE_H
#define EDG_ELEMENTWISE_H

#include "edg_model.h"
#include "edg_requant.h"

typedef struct {
    int32_t rank; /* merged dimensions, outermost first; at least 1 */
    int32_t size[EDG_MAX_RANK];
    int32_t a_stride[EDG_MAX_RANK]; /* in elements; 0 along dimensions where the operand repeats */
    int32_t b_stride[EDG_MAX_RANK];
} edg_broadcast_t;

typedef struct {
    int32_t index[EDG_MAX_RANK];
    int32_t a, b; /* element offsets of the current run's start in each operand */
} edg_broadcast_pos_t;

static inline int32_t edg_broadcast_runs(const edg_broadcast_t *bc) {
    int32_t runs = 1;
    for (int32_t d = 0; d < bc->rank - 1; ++d) {
        runs *= bc->size[d];
    }
    return runs;
}

static inline void edg_broadcast_start(edg_broadcast_pos_t *pos) {
    for (int32_t d = 0; d < EDG_MAX_RANK; ++d) {
        pos->index[d] = 0;
    }
    pos->a = 0;
    pos->b = 0;
}

/* Advances to the next run: the odometer over every dimension but the last. */
static inline void edg_broadcast_next(const edg_broadcast_t *bc, edg_broadcast_pos_t *pos) {
    for (int32_t d = bc->rank - 2; d >= 0; --d) {
        pos->a += bc->a_stride[d];
        pos->b += bc->b_stride[d];
        if (++pos->index[d] < bc->size[d]) {
            return;
        }
        pos->a -= bc->a_stride[d] * bc->size[d];
        pos->b -= bc->b_stride[d] * bc->size[d];
        pos->index[d] = 0;
    }
}

/* The broadcast walk of every binary element-wise kernel: for each output element, in output order,
 * `value` (an expression of `va` and `vb`, the two input elements as int32) gives the output. Output
 * order keeps an output written over a full-shape input safe. A macro, so the element type and the
 * per-element expression stay inlined. */
#define EDG_BROADCAST_BINARY(T, bc_, a_, b_, y_, value)                                       \
    do {                                                                                   \
        const edg_broadcast_t *bc_w = (bc_);                                               \
        const int32_t last_w = bc_w->rank - 1;                                             \
        const int32_t run_w = bc_w->size[last_w];                                          \
        const int32_t step_a_w = bc_w->a_stride[last_w], step_b_w = bc_w->b_stride[last_w]; \
        const int32_t runs_w = edg_broadcast_runs(bc_w);                                   \
        T *out_w = (y_);                                                                   \
        edg_broadcast_pos_t pos_w;                                                         \
        edg_broadcast_start(&pos_w);                                                       \
        for (int32_t r_w = 0; r_w < runs_w; ++r_w) {                                       \
            const T *ra_w = (a_) + pos_w.a;                                                \
            const T *rb_w = (b_) + pos_w.b;                                                \
            for (int32_t i_w = 0; i_w < run_w; ++i_w) {                                    \
                const int32_t va = ra_w[i_w * step_a_w];                                   \
                const int32_t vb = rb_w[i_w * step_b_w];                                   \
                *out_w++ = (T)(value);                                                     \
            }                                                                              \
            edg_broadcast_next(bc_w, &pos_w);                                              \
        }                                                                                  \
    } while (0)

static inline int64_t edg_clamp64(int64_t x, int32_t lo, int32_t hi) {
    return x < lo ? lo : (x > hi ? hi : x);
}

/* Two's-complement wrap to int32, as C's int32 arithmetic on the reference's side (via uint32: no
 * signed overflow here). */
static inline int32_t edg_wrap32(int64_t x) {
    return (int32_t)(uint32_t)(uint64_t)x;
}

/* out[k] = table[x[k] + 128]; out may be x (in place). */
static inline void edg_lookup_s8_s8(const int8_t *table, const int8_t *x, int8_t *out, int32_t count) {
    for (int32_t k = 0; k < count; ++k) {
        out[k] = table[x[k] + 128];
    }
}

#endif
