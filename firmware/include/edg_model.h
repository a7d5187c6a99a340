/* edgeml C runtime: the model ABI shared by generated model.c files, the kernels and the main loop.
 *
 * A generated model is a const table of op calls over one static arena. Every kernel has the same
 * signature, so the runtime (and the per-op trace) walks the table without knowing any op. */
#ifndef EDG_MODEL_H
#define EDG_MODEL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define EDG_MAX_RANK 6

/* Element types; the numbers are part of the serial protocol (identify reply). */
typedef enum {
    EDG_INT8 = 0,
    EDG_UINT8 = 1,
    EDG_INT16 = 2,
    EDG_INT32 = 3,
    EDG_INT64 = 4,
    EDG_FLOAT32 = 5,
    EDG_BOOL = 6,
    EDG_INT1_PACKED = 7
} edg_dtype_t;

/* in: the op's inputs in model order (activations in the arena, constants in flash; NULL for an
 * absent optional input); out: its outputs; scratch: the planned scratch bytes, or NULL. */
typedef void (*edg_kernel_fn)(const void *params, const void *const *in, void *const *out, void *scratch);

typedef struct {
    edg_kernel_fn run;
    const void *params;
    const void *const *in;
    void *const *out;
    void *scratch;
    void *trace_data; /* the op's first output, hashed by the per-op trace */
    uint32_t trace_bytes;
    uint16_t node; /* node index in the edgeml graph */
} edg_op_t;

typedef struct {
    void *data; /* inside the arena */
    uint32_t bytes;
    uint8_t dtype; /* edg_dtype_t */
    uint8_t rank;
    int32_t shape[EDG_MAX_RANK];
} edg_io_tensor_t;

typedef struct {
    const char *name;
    uint8_t hash[32]; /* sha256 of the source model file */
    uint32_t arena_bytes;
    uint8_t n_inputs;
    uint8_t n_outputs;
    uint16_t n_ops;
    const edg_io_tensor_t *inputs;
    const edg_io_tensor_t *outputs;
    const edg_op_t *ops;
} edg_model_t;

/* Called after each op when tracing (op index in execution order, that op). */
typedef void (*edg_trace_fn)(void *context, uint16_t step, const edg_op_t *op);

/* Runs every op in planned order. trace may be NULL. */
void edg_invoke(const edg_model_t *model, edg_trace_fn trace, void *context);

/* Accessors for callers that cannot read C structs (ctypes on the host). */
void *edg_input_data(const edg_model_t *model, uint32_t index);
void *edg_output_data(const edg_model_t *model, uint32_t index);

#ifdef __cplusplus
}
#endif
#endif
