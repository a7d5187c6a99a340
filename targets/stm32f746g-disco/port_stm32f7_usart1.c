/* stm32f746g-disco (STM32F746NGH6): USART1 at 0x40011000, TX PA9 / RX PB7 (AF7), interrupt 37; wired to
 * the ST-LINK's virtual COM port (UM1907).
 * Sources: RM0385 (RCC_AHB1ENR 0x30: GPIOAEN bit 0, GPIOBEN bit 1; RCC_APB2ENR 0x44: USART1EN bit 4;
 * RCC_DCKCFGR2.USART1SEL = 00 at reset: USART1 runs on PCLK2; USART v2 layout), DS10916 (AF7).
 * Clock: the reset clock, HSI 16 MHz, for the core, AHB and APB2. Caches stay off. */
#include <stdint.h>

#include "edg_cortex_m.h"
#include "edg_stm32.h"

#define RCC_AHB1ENR 0x40023830u
#define RCC_APB2ENR 0x40023844u
#define GPIOA 0x40020000u
#define GPIOB 0x40020400u
#define USART1 0x40011000u

#if EDG_CORE_HZ != 16000000
#error "this port keeps the F746 on its 16 MHz HSI: board.toml firmware.core_clock_hz must say so"
#endif

void edg_board_init(void) {
    edg_stm32_clock_on(RCC_AHB1ENR, 0u); /* GPIOAEN */
    edg_stm32_clock_on(RCC_AHB1ENR, 1u); /* GPIOBEN */
    edg_stm32_clock_on(RCC_APB2ENR, 4u); /* USART1EN */
    edg_stm32_gpio_af(GPIOA, 9u, 7u);
    edg_stm32_gpio_af(GPIOB, 7u, 7u);
    edg_usart_v2_init(USART1, edg_stm32_usart_brr(EDG_CORE_HZ, EDG_UART_BAUD)); /* 139 */
}

int edg_board_rx_ready(void) { return edg_usart_v2_rx_ready(USART1); }

uint8_t edg_board_rx_read(void) { return edg_usart_v2_rx_read(USART1); }

void edg_board_tx(uint8_t byte) { edg_usart_v2_tx(USART1, byte); }

void edg_board_rx_wake(int enable) { edg_usart_v2_rx_wake(USART1, enable); }
