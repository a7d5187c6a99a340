/* edgeml C runtime: walks a generated model's op table. */
#include "edg_model.h"

void edg_invoke(const edg_model_t *model, edg_trace_fn trace, void *context) {
    for (uint16_t step = 0; step < model->n_ops; ++step) {
        const edg_op_t *op = &model->ops[step];
        op->run(op->params, op->in, op->out, op->scratch);
        if (trace != NULL) {
            trace(context, step, op);
        }
    }
}

void *edg_input_data(const edg_model_t *model, uint32_t index) {
    return index < model->n_inputs ? model->inputs[index].data : NULL;
}

void *edg_output_data(const edg_model_t *model, uint32_t index) {
    return index < model->n_outputs ? model->outputs[index].data : NULL;
}
