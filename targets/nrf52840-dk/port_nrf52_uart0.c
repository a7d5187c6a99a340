/* nrf52840-dk (nRF52840): UART0 at 0x40002000, TX P0.06 / RX P0.08, interrupt 2 (UARTE0_UART0); wired to
 * the J-Link OB's virtual COM port (PCA10056 user guide).
 * Sources: nRF52840 Product Specification v1.x: "UART - Universal asynchronous receiver/transmitter"
 * (the instance shared with UARTE0; ENABLE = 4 selects this byte-by-byte register interface, which
 * needs no EasyDMA buffers in RAM; TASKS_STARTRX 0x000, TASKS_STARTTX 0x008, EVENTS_RXDRDY 0x108,
 * EVENTS_TXDRDY 0x11C, INTENSET 0x304 / INTENCLR 0x308 bit 2 RXDRDY, ERRORSRC 0x480, ENABLE 0x500,
 * PSEL.TXD 0x50C, PSEL.RXD 0x514, RXD 0x518 (6-byte FIFO behind it), TXD 0x51C, BAUDRATE 0x524,
 * 0x01D7E000 = 115200), "CLOCK" (TASKS_HFCLKSTART 0x000, EVENTS_HFCLKSTARTED 0x100), "GPIO"
 * (P0 at 0x50000000: OUTSET 0x508, PIN_CNF[n] 0x700 + 4n).
 * Clock: the core always runs at 64 MHz; the 32 MHz crystal is started so that the baud rate is
 * crystal-accurate rather than the internal RC's. */
#include <stdint.h>

#include "edg_cortex_m.h"

#define CLOCK 0x40000000u
#define UART0 0x40002000u
#define P0 0x50000000u
#define TXD_PIN 6u
#define RXD_PIN 8u

#define UART_TASKS_STARTRX EDG_REG(UART0 + 0x000u)
#define UART_TASKS_STARTTX EDG_REG(UART0 + 0x008u)
#define UART_EVENTS_RXDRDY EDG_REG(UART0 + 0x108u)
#define UART_EVENTS_TXDRDY EDG_REG(UART0 + 0x11Cu)
#define UART_EVENTS_ERROR EDG_REG(UART0 + 0x124u)
#define UART_INTENSET EDG_REG(UART0 + 0x304u)
#define UART_INTENCLR EDG_REG(UART0 + 0x308u)
#define UART_ERRORSRC EDG_REG(UART0 + 0x480u)
#define UART_ENABLE EDG_REG(UART0 + 0x500u)
#define UART_PSEL_TXD EDG_REG(UART0 + 0x50Cu)
#define UART_PSEL_RXD EDG_REG(UART0 + 0x514u)
#define UART_RXD EDG_REG(UART0 + 0x518u)
#define UART_TXD EDG_REG(UART0 + 0x51Cu)
#define UART_BAUDRATE EDG_REG(UART0 + 0x524u)
#define UART_CONFIG EDG_REG(UART0 + 0x56Cu)
#define UART_INT_RXDRDY (1u << 2)

#if EDG_CORE_HZ != 64000000
#error "the nRF52840 core runs at 64 MHz: board.toml firmware.core_clock_hz must say so"
#endif
#if EDG_UART_BAUD != 115200
#error "port_nrf52_uart0.c only has the BAUDRATE register value for 115200 baud"
#endif

void edg_board_init(void) {
    EDG_REG(CLOCK + 0x100u) = 0u; /* EVENTS_HFCLKSTARTED */
    EDG_REG(CLOCK + 0x000u) = 1u; /* TASKS_HFCLKSTART */
    while (EDG_REG(CLOCK + 0x100u) == 0u) {
    }
    EDG_REG(P0 + 0x508u) = 1u << TXD_PIN;            /* OUTSET: the line idles high */
    EDG_REG(P0 + 0x700u + 4u * TXD_PIN) = 3u;        /* PIN_CNF: output, input buffer disconnected */
    EDG_REG(P0 + 0x700u + 4u * RXD_PIN) = 3u << 2;   /* PIN_CNF: input, pull-up */
    UART_ENABLE = 0u;
    UART_PSEL_TXD = TXD_PIN; /* port 0, connected */
    UART_PSEL_RXD = RXD_PIN;
    UART_BAUDRATE = 0x01D7E000u; /* 115200 */
    UART_CONFIG = 0u;            /* 8N1, no flow control */
    UART_ENABLE = 4u;            /* UART (not UARTE) */
    UART_EVENTS_RXDRDY = 0u;
    UART_EVENTS_TXDRDY = 0u;
    UART_TASKS_STARTTX = 1u;
    UART_TASKS_STARTRX = 1u;
}

int edg_board_rx_ready(void) { return UART_EVENTS_RXDRDY != 0u; }

/* Clear the event before reading RXD: reading moves the FIFO's next byte in, which raises it again. */
uint8_t edg_board_rx_read(void) {
    UART_EVENTS_RXDRDY = 0u;
    if (UART_EVENTS_ERROR != 0u) { /* overrun, framing, break: clear and go on, the protocol's CRC tells */
        UART_EVENTS_ERROR = 0u;
        UART_ERRORSRC = UART_ERRORSRC;
    }
    return (uint8_t)UART_RXD;
}

void edg_board_tx(uint8_t byte) {
    UART_TXD = byte;
    while (UART_EVENTS_TXDRDY == 0u) {
    }
    UART_EVENTS_TXDRDY = 0u;
}

void edg_board_rx_wake(int enable) {
    if (enable) {
        UART_INTENSET = UART_INT_RXDRDY;
    } else {
        UART_INTENCLR = UART_INT_RXDRDY;
        (void)UART_INTENCLR; /* the write has reached the UART before the handler returns */
    }
}
