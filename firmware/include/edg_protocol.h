/* edgeml serial protocol, version 1: the host drives a device running one model (edg_main.c).
 *
 * Frame (every integer little-endian):
 *     0xED 0x6E | u8 cmd | u8 seq | u16 length | payload[length] | u32 CRC-32
 * The CRC-32 (edg_crc32.h: IEEE 802.3, reflected 0xEDB88320, init and final XOR 0xFFFFFFFF) covers
 * cmd, seq, length and the payload. length <= EDG_PROTO_MAX_PAYLOAD (1024).
 *
 * The host sends requests; the device answers each with one reply frame whose cmd is the request's
 * cmd | 0x80 and whose seq is the request's. The device reads a whole request before it replies, so
 * neither side blocks on a full buffer. An error reply has cmd 0xFF, the request's seq, and payload
 * u8 error code (EDG_ERR_*) + a short ASCII message (no terminator).
 *
 * A frame with a bad CRC, a length over the maximum or an unknown cmd is never acted upon. A bad CRC
 * or length is answered with an error frame at once (the host need not wait for its timeout), then
 * the device scans for the next 0xED 0x6E. A request whose bytes stopped arriving is completed by the
 * host's next bytes and fails its CRC: before it retries after a timeout, the host sends
 * EDG_PROTO_MAX_FRAME zero bytes, which complete any partial frame and are skipped as noise.
 *
 * Requests (payload -> reply payload):
 *  0x01 IDENTIFY     (empty) -> u8 protocol version, str edgeml version, str model name,
 *                    u8[32] model hash (sha256 of the source model file), str target name,
 *                    u32 arena bytes, u32 tick_hz, u16 number of ops, u8 n_inputs, u8 n_outputs,
 *                    then per input and per output: u8 dtype (edg_dtype_t), u8 rank,
 *                    i32 shape[rank], u32 bytes. A str is u8 length + that many bytes (<= 63).
 *  0x02 WRITE_INPUT  u8 input index, u32 byte offset, data[length - 5] -> (empty). Idempotent.
 *  0x03 INVOKE       u8 flags (bit 0: trace) -> u64 ticks of the invocation, u16 ops run.
 *                    With trace, one TRACE frame (cmd 0x86, the request's seq) is sent after each op,
 *                    before the reply: u16 step, u16 node, u32 byte count, u32 CRC-32 of the op's
 *                    first output (edg_op_t.trace_data / trace_bytes), u32 ticks the op took (sending
 *                    the trace excluded). The invocation's ticks then include the trace.
 *                    An INVOKE with the same seq as the request just handled, itself an INVOKE, is a
 *                    duplicate delivery: it is answered again without running (a second run could
 *                    read inputs the first one overwrote in place).
 *  0x04 READ_OUTPUT  u8 output index, u32 byte offset, u16 length -> data[length]. Idempotent.
 *  0x05 STATS        (empty) -> u64 last invoke ticks, u32 tick_hz, u32 stack unused bytes,
 *                    u32 stack size, u32 invocations.
 * Only INVOKE changes state: the host retries it after rewriting every input (the plan may run ops
 * in place over input buffers), and everything else as is. */
#ifndef EDG_PROTOCOL_H
#define EDG_PROTOCOL_H

#include <stddef.h>
#include <stdint.h>

#include "edg_model.h"

#ifdef __cplusplus
extern "C" {
#endif

#define EDG_PROTO_VERSION 2u
#define EDG_PROTO_SYNC0 0xEDu
#define EDG_PROTO_SYNC1 0x6Eu
#define EDG_PROTO_MAX_PAYLOAD 1024u
#define EDG_PROTO_HEADER_BYTES 6u /* sync, cmd, seq, length */
#define EDG_PROTO_CRC_BYTES 4u
#define EDG_PROTO_MAX_FRAME (EDG_PROTO_HEADER_BYTES + EDG_PROTO_MAX_PAYLOAD + EDG_PROTO_CRC_BYTES)
#define EDG_PROTO_REPLY 0x80u
#define EDG_PROTO_MAX_STRING 63u

enum {
    EDG_CMD_IDENTIFY = 0x01,
    EDG_CMD_WRITE_INPUT = 0x02,
    EDG_CMD_INVOKE = 0x03,
    EDG_CMD_READ_OUTPUT = 0x04,
    EDG_CMD_STATS = 0x05,
    EDG_CMD_TRACE = 0x86, /* device -> host only, during a traced INVOKE */
    EDG_CMD_ERROR = 0xFF  /* device -> host only */
};

enum {
    EDG_ERR_BAD_CRC = 1,      /* the frame's CRC did not match: resend */
    EDG_ERR_BAD_LENGTH = 2,   /* length over EDG_PROTO_MAX_PAYLOAD: resend */
    EDG_ERR_UNKNOWN_CMD = 3,  /* a valid frame with a command this firmware does not know */
    EDG_ERR_BAD_REQUEST = 4,  /* the payload is malformed for its command */
    EDG_ERR_OUT_OF_RANGE = 5, /* tensor index, offset or length outside the model's tensors */
    EDG_ERR_TOO_LARGE = 6     /* the reply would not fit in one frame */
};

#define EDG_INVOKE_TRACE 0x01u

/* The frame parser: a byte-at-a-time state machine over one static payload buffer. */
typedef enum {
    EDG_PARSE_MORE = 0,   /* the byte was taken; no frame complete yet */
    EDG_PARSE_FRAME,      /* a frame with a good CRC is in cmd, seq, length, payload */
    EDG_PARSE_BAD_CRC,    /* a complete frame failed its CRC (cmd, seq as received) */
    EDG_PARSE_BAD_LENGTH  /* a header announced more than EDG_PROTO_MAX_PAYLOAD (cmd, seq as received) */
} edg_parse_status_t;

typedef struct {
    uint8_t state;
    uint8_t cmd;
    uint8_t seq;
    uint16_t length;
    uint16_t got; /* bytes of the current field received */
    uint32_t crc; /* running CRC register over cmd..payload */
    uint32_t received_crc;
    uint8_t payload[EDG_PROTO_MAX_PAYLOAD];
} edg_proto_parser_t;

void edg_proto_parser_init(edg_proto_parser_t *parser);
edg_parse_status_t edg_proto_parse_byte(edg_proto_parser_t *parser, uint8_t byte);

/* The device side: a parser, the model and what STATS reports. */
typedef struct {
    const edg_model_t *model;
    edg_proto_parser_t parser;
    uint64_t last_ticks;
    uint32_t invocations;
    uint16_t last_ops;
    uint8_t last_cmd; /* the last request acted upon (for duplicate INVOKE detection) */
    uint8_t last_seq;
    uint8_t have_last;
} edg_proto_server_t;

void edg_proto_server_init(edg_proto_server_t *server, const edg_model_t *model);

/* Feeds one received byte; when it completes a frame, handles it and writes the reply. */
void edg_proto_server_byte(edg_proto_server_t *server, uint8_t byte);

/* Serves MODEL over edg_port for ever (the main loop). */
void edg_proto_serve(const edg_model_t *model);

#ifdef __cplusplus
}
#endif
#endif
