/* Arm CMSDK APB UART (Arm DDI0479C, "APB UART"): the UART of the MPS2 FPGA images.
 * Register-level helpers; a board's port_*.c gives them its base address. */
#ifndef EDG_CMSDK_UART_H
#define EDG_CMSDK_UART_H

#include <stdint.h>

#include "edg_cortex_m.h"

#define EDG_CMSDK_DATA(base) EDG_REG((base) + 0x00u)
#define EDG_CMSDK_STATE(base) EDG_REG((base) + 0x04u)
#define EDG_CMSDK_CTRL(base) EDG_REG((base) + 0x08u)
#define EDG_CMSDK_INTSTATUS(base) EDG_REG((base) + 0x0Cu)
#define EDG_CMSDK_BAUDDIV(base) EDG_REG((base) + 0x10u)

#define EDG_CMSDK_STATE_TXFULL (1u << 0)
#define EDG_CMSDK_STATE_RXFULL (1u << 1)
#define EDG_CMSDK_CTRL_TX_EN (1u << 0)
#define EDG_CMSDK_CTRL_RX_EN (1u << 1)
#define EDG_CMSDK_CTRL_RX_INTEN (1u << 3)
#define EDG_CMSDK_INT_RX (1u << 1)

/* BAUDDIV = PCLK / baud (at least 16); the UART is always 8N1. */
static inline void edg_cmsdk_uart_init(uint32_t base, uint32_t pclk_hz, uint32_t baud) {
    EDG_CMSDK_CTRL(base) = 0u;
    EDG_CMSDK_BAUDDIV(base) = (pclk_hz + baud / 2u) / baud;
    EDG_CMSDK_STATE(base) = 0xCu;     /* clear the overrun flags (write 1 to clear) */
    EDG_CMSDK_INTSTATUS(base) = 0xFu; /* and any interrupt left from before a reset */
    EDG_CMSDK_CTRL(base) = EDG_CMSDK_CTRL_TX_EN | EDG_CMSDK_CTRL_RX_EN;
}

static inline int edg_cmsdk_uart_rx_ready(uint32_t base) {
    return (EDG_CMSDK_STATE(base) & EDG_CMSDK_STATE_RXFULL) != 0u;
}

static inline uint8_t edg_cmsdk_uart_rx_read(uint32_t base) { return (uint8_t)EDG_CMSDK_DATA(base); }

static inline void edg_cmsdk_uart_tx(uint32_t base, uint8_t byte) {
    while (EDG_CMSDK_STATE(base) & EDG_CMSDK_STATE_TXFULL) {
    }
    EDG_CMSDK_DATA(base) = byte;
}

/* The RX interrupt status is set when a byte arrives with RX_INTEN on, and stays set until written 1:
 * turning the wake-up off clears it, or the line would stay high. */
static inline void edg_cmsdk_uart_rx_wake(uint32_t base, int enable) {
    if (enable) {
        EDG_CMSDK_CTRL(base) |= EDG_CMSDK_CTRL_RX_INTEN;
    } else {
        EDG_CMSDK_CTRL(base) &= ~EDG_CMSDK_CTRL_RX_INTEN;
        EDG_CMSDK_INTSTATUS(base) = EDG_CMSDK_INT_RX;
        (void)EDG_CMSDK_INTSTATUS(base); /* the write has reached the UART before the handler returns */
    }
}

#endif
