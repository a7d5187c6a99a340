/* qemu-netduinoplus2 (STM32F405): USART1 at 0x40011000, TX PA9 / RX PA10 (AF7), interrupt 37.
 * QEMU 7.2 (hw/arm/stm32f405_soc.c) connects its first -serial to USART1. QEMU models no RCC and no
 * GPIO (their registers read 0 and ignore writes), runs the core at a fixed 168 MHz and does not pace
 * the bytes; the pin and clock set-up below is what the real chip needs, kept so that the same code
 * also runs on a Netduino Plus 2. QEMU drops bytes that arrive before the USART is enabled. */
#include <stdint.h>

#include "edg_cortex_m.h"
#include "edg_stm32.h"

#define RCC_AHB1ENR 0x40023830u
#define RCC_APB2ENR 0x40023844u
#define GPIOA 0x40020000u
#define USART1 0x40011000u

#if EDG_CORE_HZ != 168000000
#error "QEMU's netduinoplus2 runs at 168 MHz: board.toml firmware.core_clock_hz must say so"
#endif

void edg_board_init(void) {
    edg_stm32_clock_on(RCC_AHB1ENR, 0u); /* GPIOAEN */
    edg_stm32_clock_on(RCC_APB2ENR, 4u); /* USART1EN */
    edg_stm32_gpio_af(GPIOA, 9u, 7u);
    edg_stm32_gpio_af(GPIOA, 10u, 7u);
    /* On the chip USART1 would run from APB2 (at most 84 MHz, so EDG_CORE_HZ / 2 once the PLL runs). */
    edg_usart_v1_init(USART1, edg_stm32_usart_brr(EDG_CORE_HZ / 2u, EDG_UART_BAUD));
}

int edg_board_rx_ready(void) { return edg_usart_v1_rx_ready(USART1); }

uint8_t edg_board_rx_read(void) { return edg_usart_v1_rx_read(USART1); }

void edg_board_tx(uint8_t byte) { edg_usart_v1_tx(USART1, byte); }

void edg_board_rx_wake(int enable) { edg_usart_v1_rx_wake(USART1, enable); }
