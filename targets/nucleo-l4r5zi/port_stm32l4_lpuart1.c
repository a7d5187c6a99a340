/* nucleo-l4r5zi (STM32L4R5ZIT6): LPUART1 at 0x40008000, TX PG7 / RX PG8 (AF8), interrupt 70; wired to
 * the ST-LINK's virtual COM port (UM2179).
 * Sources: RM0432 (RCC at 0x40021000: AHB2ENR 0x4C bit 6 GPIOGEN, APB1ENR1 0x58 bit 28 PWREN,
 * APB1ENR2 0x5C bit 0 LPUART1EN; CCIPR.LPUART1SEL = 00 at reset: LPUART1 runs on PCLK1;
 * PWR_CR2 (0x40007004) bit 9 IOSV: port G's PG[15:2] are powered from VDDIO2, which is isolated until
 * this bit is set; GPIOG at 0x48001800; LPUART BRR = 256 * f / baud), DS12023 (AF8).
 * Clock: the reset clock, MSI 4 MHz, for the core, AHB and APB1. */
#include <stdint.h>

#include "edg_cortex_m.h"
#include "edg_stm32.h"

#define RCC_AHB2ENR 0x4002104Cu
#define RCC_APB1ENR1 0x40021058u
#define RCC_APB1ENR2 0x4002105Cu
#define PWR_CR2 0x40007004u
#define GPIOG 0x48001800u
#define LPUART1 0x40008000u

#if EDG_CORE_HZ != 4000000
#error "this port keeps the L4R5 on its 4 MHz MSI: board.toml firmware.core_clock_hz must say so"
#endif

void edg_board_init(void) {
    edg_stm32_clock_on(RCC_APB1ENR1, 28u); /* PWREN */
    EDG_REG(PWR_CR2) |= 1u << 9;           /* IOSV: VDDIO2 valid, port G usable */
    edg_stm32_clock_on(RCC_AHB2ENR, 6u);   /* GPIOGEN */
    edg_stm32_clock_on(RCC_APB1ENR2, 0u);  /* LPUART1EN */
    edg_stm32_gpio_af(GPIOG, 7u, 8u);
    edg_stm32_gpio_af(GPIOG, 8u, 8u);
    /* 8889: 115199 baud; the LPUART needs BRR >= 0x300, i.e. f >= 3 * baud. */
    edg_usart_v2_init(LPUART1, edg_stm32_lpuart_brr(EDG_CORE_HZ, EDG_UART_BAUD));
}

int edg_board_rx_ready(void) { return edg_usart_v2_rx_ready(LPUART1); }

uint8_t edg_board_rx_read(void) { return edg_usart_v2_rx_read(LPUART1); }

void edg_board_tx(uint8_t byte) { edg_usart_v2_tx(LPUART1, byte); }

void edg_board_rx_wake(int enable) { edg_usart_v2_rx_wake(LPUART1, enable); }
