/* stm32f411-blackpill (STM32F411CEU6): USART1 at 0x40011000, TX PA9 / RX PA10 (AF7), interrupt 37.
 * Sources: RM0383 (RCC_AHB1ENR 0x30 bit 0 GPIOAEN, RCC_APB2ENR 0x44 bit 4 USART1EN; USART v1 layout),
 * DS10314 (alternate function table: PA9/PA10 AF7 = USART1).
 * Clock: the reset clock, HSI 16 MHz, for the core, AHB and APB2 (no prescalers at reset). */
#include <stdint.h>

#include "edg_cortex_m.h"
#include "edg_stm32.h"

#define RCC_AHB1ENR 0x40023830u
#define RCC_APB2ENR 0x40023844u
#define GPIOA 0x40020000u
#define USART1 0x40011000u

#if EDG_CORE_HZ != 16000000
#error "this port keeps the F411 on its 16 MHz HSI: board.toml firmware.core_clock_hz must say so"
#endif

void edg_board_init(void) {
    edg_stm32_clock_on(RCC_AHB1ENR, 0u); /* GPIOAEN */
    edg_stm32_clock_on(RCC_APB2ENR, 4u); /* USART1EN */
    edg_stm32_gpio_af(GPIOA, 9u, 7u);
    edg_stm32_gpio_af(GPIOA, 10u, 7u);
    edg_usart_v1_init(USART1, edg_stm32_usart_brr(EDG_CORE_HZ, EDG_UART_BAUD)); /* 139: 115108 baud, -0.08% */
}

int edg_board_rx_ready(void) { return edg_usart_v1_rx_ready(USART1); }

uint8_t edg_board_rx_read(void) { return edg_usart_v1_rx_read(USART1); }

void edg_board_tx(uint8_t byte) { edg_usart_v1_tx(USART1, byte); }

void edg_board_rx_wake(int enable) { edg_usart_v1_rx_wake(USART1, enable); }
