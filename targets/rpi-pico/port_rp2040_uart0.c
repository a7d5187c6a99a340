/* rpi-pico (RP2040): UART0 (Arm PL011) at 0x40034000, TX GP0 / RX GP1 (function 2), interrupt 20.
 * Sources: RP2040 datasheet: 2.14 "Subsystem resets" (RESETS at 0x4000c000: RESET 0x0, RESET_DONE 0x8;
 * bits io_bank0 5, pads_bank0 8, uart0 22; 0x3000 above a register clears bits atomically),
 * 2.16 "Crystal oscillator" (XOSC at 0x40024000: CTRL 0x0 FREQ_RANGE 0xaa0 = 1-15 MHz, ENABLE 0xfab
 * at [23:12]; STATUS 0x4 bit 31 STABLE; STARTUP 0xc, in units of 256 cycles), 2.15 "Clocks" (CLOCKS at
 * 0x40008000: CLK_REF_CTRL 0x30 / SELECTED 0x38, SRC 2 = xosc; CLK_SYS_CTRL 0x3c / SELECTED 0x44,
 * SRC 0 = clk_ref; CLK_PERI_CTRL 0x48, ENABLE bit 11, AUXSRC 0 = clk_sys), 2.19 "GPIO" (IO_BANK0 at
 * 0x40014000: GPIOn_CTRL 0x4 + 8n, FUNCSEL 2 = UART; PADS_BANK0 at 0x4001c000: GPIOn 0x4 + 4n),
 * 4.2 "UART" (DR 0x0, FR 0x18: RXFE 4, TXFF 5; IBRD 0x24, FBRD 0x28, LCR_H 0x2c, CR 0x30, IFLS 0x34,
 * IMSC 0x38: RXIM 4, RTIM 6).
 * Clock: the boot ring oscillator is only known to within tens of percent, too loose for a UART, so
 * the firmware starts the Pico's 12 MHz crystal and runs clk_ref, clk_sys (the core) and clk_peri
 * (UART0) from it. No PLL: the core runs at 12 MHz. */
#include <stdint.h>

#include "edg_cortex_m.h"

#define RESETS 0x4000C000u
#define RESETS_CLEAR (RESETS + 0x3000u)
#define XOSC 0x40024000u
#define CLOCKS 0x40008000u
#define IO_BANK0 0x40014000u
#define PADS_BANK0 0x4001C000u
#define UART0 0x40034000u

#define RESET_IO_BANK0 (1u << 5)
#define RESET_PADS_BANK0 (1u << 8)
#define RESET_UART0 (1u << 22)

#define UART_DR EDG_REG(UART0 + 0x000u)
#define UART_FR EDG_REG(UART0 + 0x018u)
#define UART_IBRD EDG_REG(UART0 + 0x024u)
#define UART_FBRD EDG_REG(UART0 + 0x028u)
#define UART_LCR_H EDG_REG(UART0 + 0x02Cu)
#define UART_CR EDG_REG(UART0 + 0x030u)
#define UART_IFLS EDG_REG(UART0 + 0x034u)
#define UART_IMSC EDG_REG(UART0 + 0x038u)
#define UART_FR_RXFE (1u << 4)
#define UART_FR_TXFF (1u << 5)
#define UART_IMSC_RX ((1u << 4) | (1u << 6)) /* FIFO level reached, or data waiting for 32 bit times */

#define XOSC_HZ 12000000u

#if EDG_CORE_HZ != 12000000
#error "this port runs the RP2040 on its 12 MHz crystal: board.toml firmware.core_clock_hz must say so"
#endif

static void start_crystal_clocks(void) {
    EDG_REG(XOSC + 0x0Cu) = (XOSC_HZ / 1000u + 255u) / 256u; /* STARTUP: 1 ms */
    EDG_REG(XOSC + 0x00u) = (0xFABu << 12) | 0xAA0u;         /* enable, 1-15 MHz range */
    while (!(EDG_REG(XOSC + 0x04u) & (1u << 31))) {
    }
    EDG_REG(CLOCKS + 0x3Cu) &= ~1u; /* clk_sys from clk_ref (glitch-free) */
    while (!(EDG_REG(CLOCKS + 0x44u) & 1u)) {
    }
    EDG_REG(CLOCKS + 0x30u) = 2u; /* clk_ref from the crystal (glitch-free) */
    while (!(EDG_REG(CLOCKS + 0x38u) & (1u << 2))) {
    }
    EDG_REG(CLOCKS + 0x48u) = 0u; /* clk_peri: stop, select clk_sys, start */
    EDG_REG(CLOCKS + 0x48u) = 1u << 11;
}

void edg_board_init(void) {
    start_crystal_clocks();
    const uint32_t blocks = RESET_IO_BANK0 | RESET_PADS_BANK0 | RESET_UART0;
    EDG_REG(RESETS_CLEAR) = blocks;
    while ((EDG_REG(RESETS + 0x8u) & blocks) != blocks) {
    }
    EDG_REG(PADS_BANK0 + 0x08u) = (EDG_REG(PADS_BANK0 + 0x08u) & ~(1u << 2)) | (1u << 3); /* GP1: pull-up */
    EDG_REG(IO_BANK0 + 0x04u) = 2u; /* GP0: UART0 TX */
    EDG_REG(IO_BANK0 + 0x0Cu) = 2u; /* GP1: UART0 RX */
    /* Divisor in 1/64ths: 64 * f / (16 * baud) = 417 at 12 MHz, 115200 baud (115108 baud, -0.08%). */
    const uint32_t divisor = (4u * EDG_CORE_HZ + EDG_UART_BAUD / 2u) / EDG_UART_BAUD;
    UART_IBRD = divisor / 64u;
    UART_FBRD = divisor % 64u;
    UART_LCR_H = (3u << 5) | (1u << 4); /* 8 bits, FIFOs on; this write also latches the divisor */
    UART_IFLS = 0u;                     /* receive interrupt at 1/8 full (4 bytes) */
    UART_CR = (1u << 0) | (1u << 8) | (1u << 9); /* UARTEN, TXE, RXE */
}

int edg_board_rx_ready(void) { return !(UART_FR & UART_FR_RXFE); }

uint8_t edg_board_rx_read(void) { return (uint8_t)UART_DR; }

void edg_board_tx(uint8_t byte) {
    while (UART_FR & UART_FR_TXFF) {
    }
    UART_DR = byte;
}

void edg_board_rx_wake(int enable) {
    UART_IMSC = enable ? UART_IMSC_RX : 0u;
    if (!enable) {
        (void)UART_IMSC; /* the write has reached the UART before the handler returns */
    }
}
