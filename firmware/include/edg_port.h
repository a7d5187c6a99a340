/* edgeml C runtime: what a target provides (targets/<board>/ or targets/host/). */
#ifndef EDG_PORT_H
#define EDG_PORT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Clocks, UART and tick counter; called once before anything else. */
void edg_port_init(void);

/* Blocks until one byte arrives (sleeping, e.g. WFI, rather than spinning where the target can). */
uint8_t edg_port_read_byte(void);

/* Writes n bytes, blocking until the UART has taken them all. */
void edg_port_write(const uint8_t *data, size_t n);

/* A free-running tick counter and its rate (SysTick on Cortex-M; under QEMU -icount shift=0 one
 * instruction is one nanosecond, so ticks * 1e9 / tick_hz counts instructions). */
uint64_t edg_port_ticks(void);
uint32_t edg_port_tick_hz(void);

/* Stack bytes never touched since edg_port_init painted the stack (0 where unknown), and its size. */
uint32_t edg_port_stack_unused(void);
uint32_t edg_port_stack_size(void);

/* The board's name as in targets/<board>/board.toml. */
const char *edg_port_target_name(void);

#ifdef __cplusplus
}
#endif
#endif
