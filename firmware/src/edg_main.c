/* edgeml firmware main loop: bring the target up, then serve the model over the serial protocol
 * (edg_protocol.h) for ever. The generated model.c defines `<prefix>_model`; build with
 * -DEDG_APP_MODEL=<prefix>_model when the prefix is not the default "model". */
#include "edg_model.h"
#include "edg_port.h"
#include "edg_protocol.h"

#ifndef EDG_APP_MODEL
#define EDG_APP_MODEL model_model
#endif

extern const edg_model_t EDG_APP_MODEL;

int main(void) {
    edg_port_init();
    edg_proto_serve(&EDG_APP_MODEL);
    return 0;
}
