/* qemu-mps2-an500: the CMSDK APB UART0 at 0x40004000 is QEMU's first -serial; PCLK is the 25 MHz SYSCLK.
 * QEMU does not pace the bytes; BAUDDIV only matters on the FPGA board. */
#include <stdint.h>

#include "edg_cmsdk_uart.h"
#include "edg_cortex_m.h"

#define UART0 0x40004000u

#if EDG_CORE_HZ != 25000000
#error "the MPS2 images run at 25 MHz: board.toml firmware.core_clock_hz must say so"
#endif

void edg_board_init(void) { edg_cmsdk_uart_init(UART0, EDG_CORE_HZ, EDG_UART_BAUD); }

int edg_board_rx_ready(void) { return edg_cmsdk_uart_rx_ready(UART0); }

uint8_t edg_board_rx_read(void) { return edg_cmsdk_uart_rx_read(UART0); }

void edg_board_tx(uint8_t byte) { edg_cmsdk_uart_tx(UART0, byte); }

void edg_board_rx_wake(int enable) { edg_cmsdk_uart_rx_wake(UART0, enable); }
