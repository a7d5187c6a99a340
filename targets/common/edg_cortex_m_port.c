/* edgeml Cortex-M port: edg_port.h on top of a board's five UART functions and SysTick.
 *
 * Ticks: SysTick counts the processor clock (CLKSOURCE = 1) down from 2^24 - 1; its wrap interrupt
 * counts periods. Under QEMU `-icount shift=0` one instruction is 1 ns of emulated time and SysTick
 * follows that clock: 1 tick = 40 instructions on the 25 MHz mps2 machines, 1/0.168 = 5.95 on the
 * 168 MHz netduinoplus2 (measured by tests/test_targets_qemu.py). A count repeats to within one tick:
 * idle time (WFI) moves the emulated clock by a real-time amount, so where a measurement starts on
 * the tick grid varies; and a wrap interrupt (every 671 M instructions on mps2, 100 M on the
 * netduinoplus2) adds its few instructions to the region it falls in. The reference clock
 * (CLKSOURCE = 0) is as deterministic but coarser under QEMU (1 MHz on mps2, 21 MHz on the
 * netduinoplus2) and chip-specific on hardware. On a real board a tick is a core cycle at EDG_CORE_HZ.
 */
#include "edg_port.h"

#include <stddef.h>
#include <stdint.h>

#include "edg_cortex_m.h"

extern uint32_t __edg_stack_bottom[];
extern uint32_t __edg_stack_top[];
extern const char __edg_target_name[]; /* written by the linker script from board.toml's name */

#define SYSTICK_PERIOD (1u << 24)

static volatile uint32_t systick_wraps;
static volatile int uart_up;

void edg_systick_handler(void) { systick_wraps = systick_wraps + 1u; }

/* Only a safety net: edg_port_read_byte clears the UART's pending interrupt before it unmasks. */
void edg_uart_irq_handler(void) { edg_board_rx_wake(0); }

void edg_port_init(void) {
    edg_board_init();
    uart_up = 1;
    EDG_NVIC_ISER(EDG_UART_IRQ / 32u) = 1u << (EDG_UART_IRQ % 32u);
    EDG_SYST_RVR = SYSTICK_PERIOD - 1u;
    EDG_SYST_CVR = 0u;
    EDG_SYST_CSR = EDG_SYST_CSR_CLKSOURCE_CPU | EDG_SYST_CSR_TICKINT | EDG_SYST_CSR_ENABLE;
}

uint8_t edg_port_read_byte(void) {
    /* Interrupts stay masked from arming the wake-up until the byte is taken: a byte arriving between
     * the check and the WFI leaves the UART's interrupt pending, which ends the WFI at once (pending
     * interrupts wake the core even while PRIMASK masks them). Reading the byte lowers the UART's
     * line, and the pending state is cleared before unmasking, so the UART handler normally never runs.
     * That matters on QEMU 7.2's STM32 USART, whose line only drops when the data register is read. */
    edg_irq_disable();
    while (!edg_board_rx_ready()) {
        edg_board_rx_wake(1);
        if (!edg_board_rx_ready()) {
            edg_wait_for_interrupt();
        }
        edg_board_rx_wake(0);
        if (edg_board_rx_ready()) {
            break;
        }
        /* Woken by something else (a SysTick wrap): let its handler run before sleeping again. */
        edg_irq_enable();
        __asm__ volatile("isb" ::: "memory");
        edg_irq_disable();
    }
    const uint8_t byte = edg_board_rx_read();
    EDG_NVIC_ICPR(EDG_UART_IRQ / 32u) = 1u << (EDG_UART_IRQ % 32u);
    edg_irq_enable();
    return byte;
}

void edg_port_write(const uint8_t *data, size_t n) {
    for (size_t i = 0; i < n; ++i) {
        edg_board_tx(data[i]);
    }
}

uint64_t edg_port_ticks(void) {
    const uint32_t masked = edg_primask();
    edg_irq_disable();
    uint32_t wraps = systick_wraps;
    uint32_t current = EDG_SYST_CVR;
    if (EDG_SCB_ICSR & EDG_SCB_ICSR_PENDSTSET) {
        /* A wrap not yet counted by the handler: read again, certainly after it. */
        current = EDG_SYST_CVR;
        wraps += 1u;
    }
    if (!masked) {
        edg_irq_enable();
    }
    /* The wrap interrupt fires as the counter reaches 0, so a period runs 0, 2^24 - 1, ..., 1. */
    const uint32_t elapsed = (SYSTICK_PERIOD - current) & (SYSTICK_PERIOD - 1u);
    return ((uint64_t)wraps << 24) | elapsed;
}

uint32_t edg_port_tick_hz(void) { return (uint32_t)EDG_CORE_HZ; }

uint32_t edg_port_stack_size(void) {
    return (uint32_t)((uintptr_t)__edg_stack_top - (uintptr_t)__edg_stack_bottom);
}

uint32_t edg_port_stack_unused(void) {
    const uint32_t words = edg_port_stack_size() / 4u;
    uint32_t unused = 0u;
    while (unused < words && __edg_stack_bottom[unused] == EDG_STACK_PAINT) {
        ++unused;
    }
    return unused * 4u;
}

const char *edg_port_target_name(void) { return __edg_target_name; }

/* ---- faults ---- */

static void tx_text(const char *text) {
    while (*text != '\0') {
        edg_board_tx((uint8_t)*text++);
    }
}

static void tx_hex(uint32_t value) {
    static const char digits[] = "0123456789abcdef";
    for (int shift = 28; shift >= 0; shift -= 4) {
        edg_board_tx((uint8_t)digits[(value >> shift) & 0xFu]);
    }
}

void edg_halt(void) {
    edg_irq_disable();
    EDG_SYST_CSR = 0u;
    if (uart_up) {
        edg_board_rx_wake(0);
    }
    EDG_NVIC_ICPR(EDG_UART_IRQ / 32u) = 1u << (EDG_UART_IRQ % 32u);
    for (;;) {
        edg_wait_for_interrupt(); /* nothing is left to wake it: the core (and QEMU) stays idle */
    }
}

/* One text line the host can recognise even in the middle of the binary protocol:
 * "\r\n!EDG FAULT exception <IPSR, hex> pc <stacked PC, hex>\r\n". */
void edg_fault_report(const uint32_t *frame, uint32_t ipsr) {
    edg_irq_disable();
    if (uart_up) {
        tx_text("\r\n!EDG FAULT exception ");
        tx_hex(ipsr & 0x1FFu);
        tx_text(" pc ");
        tx_hex(frame[6]);
        tx_text("\r\n");
    }
    edg_halt();
}
