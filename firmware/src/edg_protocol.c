/* edgeml serial protocol, device side (the format is described in edg_protocol.h).
 *
 * Replies are streamed straight to the UART with a running CRC, so the only frame buffer is the
 * parser's request payload; output tensors are sent from the arena without a copy. */
#include "edg_protocol.h"

#include <string.h>

#include "edg_crc32.h"
#include "edg_port.h"

#ifndef EDGEML_VERSION
#define EDGEML_VERSION "unknown" /* the build passes -DEDGEML_VERSION="\"x.y.z\"" */
#endif

enum { ST_SYNC0 = 0, ST_SYNC1, ST_HEADER, ST_PAYLOAD, ST_CRC };

/* ------------------------------------------------------------------ the parser */

void edg_proto_parser_init(edg_proto_parser_t *parser) {
    parser->state = ST_SYNC0;
    parser->got = 0;
}

static edg_parse_status_t header_byte(edg_proto_parser_t *p, uint8_t byte) {
    p->crc = edg_crc32_update(p->crc, &byte, 1);
    switch (p->got++) {
    case 0: p->cmd = byte; break;
    case 1: p->seq = byte; break;
    case 2: p->length = byte; break;
    default:
        p->length = (uint16_t)(p->length | (uint16_t)(byte << 8));
        p->got = 0;
        if (p->length > EDG_PROTO_MAX_PAYLOAD) {
            p->state = ST_SYNC0; /* never buffer an impossible frame; rescan from here */
            return EDG_PARSE_BAD_LENGTH;
        }
        p->state = p->length > 0 ? ST_PAYLOAD : ST_CRC;
        break;
    }
    return EDG_PARSE_MORE;
}

static edg_parse_status_t crc_byte(edg_proto_parser_t *p, uint8_t byte) {
    p->received_crc |= (uint32_t)byte << (8u * p->got);
    if (++p->got < EDG_PROTO_CRC_BYTES) {
        return EDG_PARSE_MORE;
    }
    p->state = ST_SYNC0;
    p->got = 0;
    return p->received_crc == edg_crc32_final(p->crc) ? EDG_PARSE_FRAME : EDG_PARSE_BAD_CRC;
}

edg_parse_status_t edg_proto_parse_byte(edg_proto_parser_t *p, uint8_t byte) {
    switch (p->state) {
    case ST_SYNC0:
        if (byte == EDG_PROTO_SYNC0) {
            p->state = ST_SYNC1;
        }
        return EDG_PARSE_MORE;
    case ST_SYNC1:
        if (byte == EDG_PROTO_SYNC1) {
            p->state = ST_HEADER;
            p->got = 0;
            p->crc = EDG_CRC32_INIT;
            p->received_crc = 0;
        } else if (byte != EDG_PROTO_SYNC0) {
            p->state = ST_SYNC0;
        }
        return EDG_PARSE_MORE;
    case ST_HEADER:
        return header_byte(p, byte);
    case ST_PAYLOAD:
        p->payload[p->got++] = byte;
        p->crc = edg_crc32_update(p->crc, &byte, 1);
        if (p->got == p->length) {
            p->state = ST_CRC;
            p->got = 0;
        }
        return EDG_PARSE_MORE;
    default:
        return crc_byte(p, byte);
    }
}

/* ------------------------------------------------------------------ streaming replies */

/* A reply being written: small fields gather in `stage`, so the UART sees few, larger writes.
 * With send == 0 it only counts bytes (to size a reply before its header goes out). */
typedef struct {
    int send;
    uint32_t count;
    uint32_t crc;
    size_t staged;
    uint8_t stage[32];
} tx_t;

static void tx_flush(tx_t *t) {
    if (t->staged > 0) {
        edg_port_write(t->stage, t->staged);
        t->staged = 0;
    }
}

static void tx_bytes(tx_t *t, const void *data, size_t n) {
    t->count += (uint32_t)n;
    if (!t->send || n == 0) {
        return;
    }
    t->crc = edg_crc32_update(t->crc, data, n);
    if (t->staged + n <= sizeof t->stage) {
        memcpy(t->stage + t->staged, data, n);
        t->staged += n;
        return;
    }
    tx_flush(t);
    edg_port_write((const uint8_t *)data, n);
}

static void tx_u8(tx_t *t, uint8_t v) { tx_bytes(t, &v, 1); }

static void tx_u16(tx_t *t, uint16_t v) {
    const uint8_t b[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    tx_bytes(t, b, sizeof b);
}

static void tx_u32(tx_t *t, uint32_t v) {
    const uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    tx_bytes(t, b, sizeof b);
}

static void tx_u64(tx_t *t, uint64_t v) {
    tx_u32(t, (uint32_t)v);
    tx_u32(t, (uint32_t)(v >> 32));
}

static void tx_counter(tx_t *t) {
    t->send = 0;
    t->count = 0;
}

/* Starts a frame: sync (outside the CRC), then cmd, seq and length (inside it). */
static void tx_begin(tx_t *t, uint8_t cmd, uint8_t seq, uint16_t length) {
    static const uint8_t sync[2] = {EDG_PROTO_SYNC0, EDG_PROTO_SYNC1};
    t->send = 1;
    t->staged = 0;
    memcpy(t->stage, sync, sizeof sync);
    t->staged = sizeof sync;
    t->crc = EDG_CRC32_INIT;
    tx_u8(t, cmd);
    tx_u8(t, seq);
    tx_u16(t, length);
}

static void tx_end(tx_t *t) {
    const uint32_t crc = edg_crc32_final(t->crc);
    tx_u32(t, crc);
    tx_flush(t);
}

static void send_error(uint8_t seq, uint8_t code, const char *message) {
    tx_t t;
    const size_t n = strlen(message);
    tx_begin(&t, EDG_CMD_ERROR, seq, (uint16_t)(1u + n));
    tx_u8(&t, code);
    tx_bytes(&t, message, n);
    tx_end(&t);
}

static void send_empty(uint8_t cmd, uint8_t seq) {
    tx_t t;
    tx_begin(&t, (uint8_t)(cmd | EDG_PROTO_REPLY), seq, 0);
    tx_end(&t);
}

/* ------------------------------------------------------------------ little-endian payload fields */

static uint16_t get_u16(const uint8_t *p) { return (uint16_t)(p[0] | (uint16_t)(p[1] << 8)); }

static uint32_t get_u32(const uint8_t *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

/* ------------------------------------------------------------------ commands */

static void tx_string(tx_t *t, const char *s) {
    size_t n = s != NULL ? strlen(s) : 0u;
    if (n > EDG_PROTO_MAX_STRING) {
        n = EDG_PROTO_MAX_STRING;
    }
    tx_u8(t, (uint8_t)n);
    tx_bytes(t, s, n);
}

static void tx_tensor(tx_t *t, const edg_io_tensor_t *tensor) {
    const uint8_t rank = tensor->rank <= EDG_MAX_RANK ? tensor->rank : (uint8_t)EDG_MAX_RANK;
    tx_u8(t, tensor->dtype);
    tx_u8(t, rank);
    for (uint8_t d = 0; d < rank; ++d) {
        tx_u32(t, (uint32_t)tensor->shape[d]);
    }
    tx_u32(t, tensor->bytes);
}

static void identify_body(tx_t *t, const edg_model_t *m) {
    tx_u8(t, (uint8_t)EDG_PROTO_VERSION);
    tx_string(t, EDGEML_VERSION);
    tx_string(t, m->name);
    tx_bytes(t, m->hash, sizeof m->hash);
    tx_string(t, edg_port_target_name());
    tx_u32(t, m->arena_bytes);
    tx_u32(t, edg_port_tick_hz());
    tx_u16(t, m->n_ops);
    tx_u8(t, m->n_inputs);
    tx_u8(t, m->n_outputs);
    for (uint8_t i = 0; i < m->n_inputs; ++i) {
        tx_tensor(t, &m->inputs[i]);
    }
    for (uint8_t i = 0; i < m->n_outputs; ++i) {
        tx_tensor(t, &m->outputs[i]);
    }
}

static void do_identify(const edg_proto_server_t *s, uint8_t seq) {
    tx_t t;
    tx_counter(&t);
    identify_body(&t, s->model);
    if (t.count > EDG_PROTO_MAX_PAYLOAD) {
        send_error(seq, EDG_ERR_TOO_LARGE, "model has too many inputs/outputs for IDENTIFY");
        return;
    }
    tx_begin(&t, EDG_CMD_IDENTIFY | EDG_PROTO_REPLY, seq, (uint16_t)t.count);
    identify_body(&t, s->model);
    tx_end(&t);
}

/* Whether [offset, offset + n) lies inside a tensor of `bytes` bytes (no overflow). */
static int in_range(uint32_t offset, uint32_t n, uint32_t bytes) { return offset <= bytes && n <= bytes - offset; }

static void do_write_input(const edg_proto_server_t *s, uint8_t seq) {
    const edg_proto_parser_t *p = &s->parser;
    if (p->length < 5u) {
        send_error(seq, EDG_ERR_BAD_REQUEST, "WRITE_INPUT needs u8 index, u32 offset, data");
        return;
    }
    const uint8_t index = p->payload[0];
    const uint32_t offset = get_u32(&p->payload[1]);
    const uint32_t n = p->length - 5u;
    if (index >= s->model->n_inputs) {
        send_error(seq, EDG_ERR_OUT_OF_RANGE, "no such input");
        return;
    }
    const edg_io_tensor_t *tensor = &s->model->inputs[index];
    if (!in_range(offset, n, tensor->bytes)) {
        send_error(seq, EDG_ERR_OUT_OF_RANGE, "write past the end of the input");
        return;
    }
    memcpy((uint8_t *)tensor->data + offset, &p->payload[5], n);
    send_empty(EDG_CMD_WRITE_INPUT, seq);
}

typedef struct {
    uint8_t seq;
    uint64_t mark; /* ticks when the op being traced started */
} trace_context_t;

static void trace_op(void *context, uint16_t step, const edg_op_t *op) {
    trace_context_t *c = (trace_context_t *)context;
    const uint64_t op_ticks = edg_port_ticks() - c->mark;
    tx_t t;
    tx_begin(&t, EDG_CMD_TRACE, c->seq, 16u);
    tx_u16(&t, step);
    tx_u16(&t, op->node);
    tx_u32(&t, op->trace_bytes);
    tx_u32(&t, edg_crc32(op->trace_data, op->trace_bytes));
    tx_u32(&t, op_ticks > UINT32_MAX ? UINT32_MAX : (uint32_t)op_ticks);
    tx_end(&t);
    c->mark = edg_port_ticks(); /* the next op starts after the frame and its CRC */
}

static void send_invoke_reply(const edg_proto_server_t *s, uint8_t seq) {
    tx_t t;
    tx_begin(&t, EDG_CMD_INVOKE | EDG_PROTO_REPLY, seq, 10u);
    tx_u64(&t, s->last_ticks);
    tx_u16(&t, s->last_ops);
    tx_end(&t);
}

static void do_invoke(edg_proto_server_t *s, uint8_t seq) {
    const edg_proto_parser_t *p = &s->parser;
    if (p->length != 1u) {
        send_error(seq, EDG_ERR_BAD_REQUEST, "INVOKE needs u8 flags");
        return;
    }
    if (s->have_last && s->last_cmd == EDG_CMD_INVOKE && s->last_seq == seq) {
        send_invoke_reply(s, seq); /* the same request delivered twice: do not run on spent inputs */
        return;
    }
    const int trace = (p->payload[0] & EDG_INVOKE_TRACE) != 0u;
    const uint64_t start = edg_port_ticks();
    trace_context_t context = {seq, start};
    edg_invoke(s->model, trace ? trace_op : NULL, &context);
    s->last_ticks = edg_port_ticks() - start;
    s->last_ops = s->model->n_ops;
    s->invocations++;
    send_invoke_reply(s, seq);
}

static void do_read_output(const edg_proto_server_t *s, uint8_t seq) {
    const edg_proto_parser_t *p = &s->parser;
    if (p->length != 7u) {
        send_error(seq, EDG_ERR_BAD_REQUEST, "READ_OUTPUT needs u8 index, u32 offset, u16 length");
        return;
    }
    const uint8_t index = p->payload[0];
    const uint32_t offset = get_u32(&p->payload[1]);
    const uint16_t n = get_u16(&p->payload[5]);
    if (index >= s->model->n_outputs) {
        send_error(seq, EDG_ERR_OUT_OF_RANGE, "no such output");
        return;
    }
    const edg_io_tensor_t *tensor = &s->model->outputs[index];
    if (n > EDG_PROTO_MAX_PAYLOAD || !in_range(offset, n, tensor->bytes)) {
        send_error(seq, EDG_ERR_OUT_OF_RANGE, "read past the end of the output or over 1024 bytes");
        return;
    }
    tx_t t;
    tx_begin(&t, EDG_CMD_READ_OUTPUT | EDG_PROTO_REPLY, seq, n);
    tx_bytes(&t, (const uint8_t *)tensor->data + offset, n);
    tx_end(&t);
}

static void do_stats(const edg_proto_server_t *s, uint8_t seq) {
    tx_t t;
    tx_begin(&t, EDG_CMD_STATS | EDG_PROTO_REPLY, seq, 24u);
    tx_u64(&t, s->last_ticks);
    tx_u32(&t, edg_port_tick_hz());
    tx_u32(&t, edg_port_stack_unused());
    tx_u32(&t, edg_port_stack_size());
    tx_u32(&t, s->invocations);
    tx_end(&t);
}

static void handle_frame(edg_proto_server_t *s) {
    const uint8_t cmd = s->parser.cmd;
    const uint8_t seq = s->parser.seq;
    const int empty = s->parser.length == 0u;
    switch (cmd) {
    case EDG_CMD_IDENTIFY:
        if (empty) {
            do_identify(s, seq);
        } else {
            send_error(seq, EDG_ERR_BAD_REQUEST, "IDENTIFY takes no payload");
        }
        break;
    case EDG_CMD_WRITE_INPUT: do_write_input(s, seq); break;
    case EDG_CMD_INVOKE: do_invoke(s, seq); break;
    case EDG_CMD_READ_OUTPUT: do_read_output(s, seq); break;
    case EDG_CMD_STATS:
        if (empty) {
            do_stats(s, seq);
        } else {
            send_error(seq, EDG_ERR_BAD_REQUEST, "STATS takes no payload");
        }
        break;
    default: send_error(seq, EDG_ERR_UNKNOWN_CMD, "unknown command"); return;
    }
    s->last_cmd = cmd;
    s->last_seq = seq;
    s->have_last = 1u;
}

/* ------------------------------------------------------------------ the server */

void edg_proto_server_init(edg_proto_server_t *server, const edg_model_t *model) {
    memset(server, 0, sizeof *server);
    server->model = model;
    edg_proto_parser_init(&server->parser);
}

void edg_proto_server_byte(edg_proto_server_t *server, uint8_t byte) {
    switch (edg_proto_parse_byte(&server->parser, byte)) {
    case EDG_PARSE_FRAME: handle_frame(server); break;
    case EDG_PARSE_BAD_CRC: send_error(server->parser.seq, EDG_ERR_BAD_CRC, "bad CRC"); break;
    case EDG_PARSE_BAD_LENGTH: send_error(server->parser.seq, EDG_ERR_BAD_LENGTH, "length over 1024"); break;
    default: break;
    }
}

void edg_proto_serve(const edg_model_t *model) {
    static edg_proto_server_t server; /* static: the frame buffer stays off the stack */
    edg_proto_server_init(&server, model);
    for (;;) {
        edg_proto_server_byte(&server, edg_port_read_byte());
    }
}
