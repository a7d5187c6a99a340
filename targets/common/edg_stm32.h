/* STM32 GPIO alternate functions and U(S)ARTs, register level (no vendor SDK).
 *
 * Two USART register layouts exist:
 *   v1 (STM32F1/F2/F4): SR 0x00, DR 0x04, BRR 0x08, CR1 0x0C (RM0090 / RM0383 "USART registers");
 *   v2 (STM32F7/H7/L4 and every LPUART): CR1 0x00, CR3 0x08, BRR 0x0C, ISR 0x1C, ICR 0x20, RDR 0x24,
 *      TDR 0x28 (RM0385 / RM0433 / RM0432).
 * The GPIO block is the same on F4, F7, H7 and L4: MODER 0x00, OSPEEDR 0x08, PUPDR 0x0C, AFRL/AFRH 0x20/0x24.
 */
#ifndef EDG_STM32_H
#define EDG_STM32_H

#include <stdint.h>

#include "edg_cortex_m.h"

/* Sets BIT in the RCC enable register at ADDRESS and reads it back: the clock is on before the
 * peripheral's first access (the reference manuals ask for that delay after enabling a clock). */
static inline void edg_stm32_clock_on(uint32_t address, uint32_t bit) {
    EDG_REG(address) |= 1u << bit;
    (void)EDG_REG(address);
}

/* PIN of the GPIO port at BASE to alternate function AF, high speed, with a pull-up (an idle UART
 * line is high, so a disconnected RX reads no spurious start bits). */
static inline void edg_stm32_gpio_af(uint32_t base, uint32_t pin, uint32_t af) {
    const uint32_t two = 2u * pin;
    EDG_REG(base + 0x00u) = (EDG_REG(base + 0x00u) & ~(3u << two)) | (2u << two); /* MODER: alternate */
    EDG_REG(base + 0x08u) |= 3u << two;                                           /* OSPEEDR: very high */
    EDG_REG(base + 0x0Cu) = (EDG_REG(base + 0x0Cu) & ~(3u << two)) | (1u << two); /* PUPDR: pull-up */
    const uint32_t afr = base + (pin < 8u ? 0x20u : 0x24u);
    const uint32_t four = 4u * (pin % 8u);
    EDG_REG(afr) = (EDG_REG(afr) & ~(0xFu << four)) | (af << four);
}

/* Oversampling by 16: BRR = f_ck / baud, rounded (v1 and v2 USARTs alike). */
static inline uint32_t edg_stm32_usart_brr(uint32_t clock_hz, uint32_t baud) { return (clock_hz + baud / 2u) / baud; }

/* LPUART: BRR = 256 * f_ck / baud, rounded; valid from 0x300 up (RM0432 "LPUART baud rate generation"). */
static inline uint32_t edg_stm32_lpuart_brr(uint32_t clock_hz, uint32_t baud) {
    return (uint32_t)((256ull * clock_hz + baud / 2u) / baud);
}

#define EDG_USART_CR1_RE (1u << 2)
#define EDG_USART_CR1_TE (1u << 3)
#define EDG_USART_CR1_RXNEIE (1u << 5)
#define EDG_USART_STATUS_RXNE (1u << 5)
#define EDG_USART_STATUS_TXE (1u << 7)

/* ---- v1: F4 ---- */
#define EDG_USART1_SR(base) EDG_REG((base) + 0x00u)
#define EDG_USART1_DR(base) EDG_REG((base) + 0x04u)
#define EDG_USART1_BRR(base) EDG_REG((base) + 0x08u)
#define EDG_USART1_CR1(base) EDG_REG((base) + 0x0Cu)
#define EDG_USART1_CR1_UE (1u << 13)

static inline void edg_usart_v1_init(uint32_t base, uint32_t brr) {
    EDG_USART1_CR1(base) = 0u;
    EDG_USART1_BRR(base) = brr;
    EDG_USART1_CR1(base) = EDG_USART1_CR1_UE | EDG_USART_CR1_TE | EDG_USART_CR1_RE; /* 8N1 */
}

/* An overrun (ORE) is cleared by the same SR-then-DR read sequence that takes the byte. */
static inline int edg_usart_v1_rx_ready(uint32_t base) { return (EDG_USART1_SR(base) & EDG_USART_STATUS_RXNE) != 0u; }

static inline uint8_t edg_usart_v1_rx_read(uint32_t base) { return (uint8_t)EDG_USART1_DR(base); }

static inline void edg_usart_v1_tx(uint32_t base, uint8_t byte) {
    while (!(EDG_USART1_SR(base) & EDG_USART_STATUS_TXE)) {
    }
    EDG_USART1_DR(base) = byte;
}

static inline void edg_usart_v1_rx_wake(uint32_t base, int enable) {
    if (enable) {
        EDG_USART1_CR1(base) |= EDG_USART_CR1_RXNEIE;
    } else {
        EDG_USART1_CR1(base) &= ~EDG_USART_CR1_RXNEIE;
        (void)EDG_USART1_CR1(base); /* the write has reached the USART before the handler returns */
    }
}

/* ---- v2: F7, H7, L4, LPUART ---- */
#define EDG_USART2_CR1(base) EDG_REG((base) + 0x00u)
#define EDG_USART2_CR3(base) EDG_REG((base) + 0x08u)
#define EDG_USART2_BRR(base) EDG_REG((base) + 0x0Cu)
#define EDG_USART2_ISR(base) EDG_REG((base) + 0x1Cu)
#define EDG_USART2_ICR(base) EDG_REG((base) + 0x20u)
#define EDG_USART2_RDR(base) EDG_REG((base) + 0x24u)
#define EDG_USART2_TDR(base) EDG_REG((base) + 0x28u)
#define EDG_USART2_CR1_UE (1u << 0)
#define EDG_USART2_CR3_OVRDIS (1u << 12)

/* Overrun detection off (CR3.OVRDIS): a lost byte must not stop the receiver; the protocol's CRC
 * catches it. */
static inline void edg_usart_v2_init(uint32_t base, uint32_t brr) {
    EDG_USART2_CR1(base) = 0u;
    EDG_USART2_CR3(base) = EDG_USART2_CR3_OVRDIS;
    EDG_USART2_BRR(base) = brr;
    EDG_USART2_ICR(base) = 0xFFFFFFFFu;
    EDG_USART2_CR1(base) = EDG_USART2_CR1_UE | EDG_USART_CR1_TE | EDG_USART_CR1_RE; /* 8N1 */
}

static inline int edg_usart_v2_rx_ready(uint32_t base) { return (EDG_USART2_ISR(base) & EDG_USART_STATUS_RXNE) != 0u; }

static inline uint8_t edg_usart_v2_rx_read(uint32_t base) { return (uint8_t)EDG_USART2_RDR(base); }

static inline void edg_usart_v2_tx(uint32_t base, uint8_t byte) {
    while (!(EDG_USART2_ISR(base) & EDG_USART_STATUS_TXE)) {
    }
    EDG_USART2_TDR(base) = byte;
}

static inline void edg_usart_v2_rx_wake(uint32_t base, int enable) {
    if (enable) {
        EDG_USART2_CR1(base) |= EDG_USART_CR1_RXNEIE;
    } else {
        EDG_USART2_CR1(base) &= ~EDG_USART_CR1_RXNEIE;
        (void)EDG_USART2_CR1(base);
    }
}

#endif
