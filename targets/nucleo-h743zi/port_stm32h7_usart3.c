/* nucleo-h743zi (STM32H743ZIT6): USART3 at 0x40004800, TX PD8 / RX PD9 (AF7), interrupt 39; wired to
 * the ST-LINK's virtual COM port (UM2407).
 * Sources: RM0433 (RCC at 0x58024400: RCC_AHB4ENR 0x0E0 bit 3 GPIODEN, RCC_APB1LENR 0x0E8 bit 18
 * USART3EN; RCC_D2CCIP2R.USART234578SEL = 000 at reset: USART3 runs on PCLK1; GPIOD at 0x58020C00;
 * USART v2 layout, FIFO off at reset), DS12110 (AF7).
 * Clock: the reset clock, HSI 64 MHz (HSIDIV = 1), undivided to AHB and APB1. The power supply
 * configuration (PWR_CR3) is left as reset leaves it, which runs the chip at this clock. Caches stay off. */
#include <stdint.h>

#include "edg_cortex_m.h"
#include "edg_stm32.h"

#define RCC_AHB4ENR 0x580244E0u
#define RCC_APB1LENR 0x580244E8u
#define GPIOD 0x58020C00u
#define USART3 0x40004800u

#if EDG_CORE_HZ != 64000000
#error "this port keeps the H743 on its 64 MHz HSI: board.toml firmware.core_clock_hz must say so"
#endif

void edg_board_init(void) {
    edg_stm32_clock_on(RCC_AHB4ENR, 3u);   /* GPIODEN */
    edg_stm32_clock_on(RCC_APB1LENR, 18u); /* USART3EN */
    edg_stm32_gpio_af(GPIOD, 8u, 7u);
    edg_stm32_gpio_af(GPIOD, 9u, 7u);
    edg_usart_v2_init(USART3, edg_stm32_usart_brr(EDG_CORE_HZ, EDG_UART_BAUD)); /* 556: 115108 baud */
}

int edg_board_rx_ready(void) { return edg_usart_v2_rx_ready(USART3); }

uint8_t edg_board_rx_read(void) { return edg_usart_v2_rx_read(USART3); }

void edg_board_tx(uint8_t byte) { edg_usart_v2_tx(USART3, byte); }

void edg_board_rx_wake(int enable) { edg_usart_v2_rx_wake(USART3, enable); }
