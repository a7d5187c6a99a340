/* edgeml Cortex-M target layer: core registers, and what each board's port_<chip>.c provides.
 *
 * The common part (edg_cortex_m_startup.c, edg_cortex_m_port.c) implements edg_port.h on top of five
 * register-level UART functions per board. The UART is polled; its receive interrupt is only used to
 * wake the core from WFI, so an idle firmware sleeps instead of spinning.
 *
 * Numbers that come from targets/<board>/board.toml arrive as -D flags (edgeml.codegen.linker
 * target_cflags): EDG_CORE_HZ (the clock the firmware runs the core at), EDG_UART_BAUD, and EDG_UART_IRQ
 * (the UART's NVIC interrupt). The generated linker script provides the memory symbols and the board name.
 */
#ifndef EDG_CORTEX_M_H
#define EDG_CORTEX_M_H

#include <stdint.h>

#ifndef EDG_CORE_HZ
#error "EDG_CORE_HZ is not defined: build with edgeml.codegen.linker.target_cflags(board)"
#endif
#ifndef EDG_UART_BAUD
#error "EDG_UART_BAUD is not defined: build with edgeml.codegen.linker.target_cflags(board)"
#endif
#ifndef EDG_UART_IRQ
#error "EDG_UART_IRQ is not defined: build with edgeml.codegen.linker.target_cflags(board)"
#endif

#define EDG_REG(address) (*(volatile uint32_t *)(uintptr_t)(address))

/* System control space: the same addresses on ARMv6-M and ARMv7-M. */
#define EDG_SYST_CSR EDG_REG(0xE000E010u)
#define EDG_SYST_RVR EDG_REG(0xE000E014u)
#define EDG_SYST_CVR EDG_REG(0xE000E018u)
#define EDG_NVIC_ISER(n) EDG_REG(0xE000E100u + 4u * (n))
#define EDG_NVIC_ICPR(n) EDG_REG(0xE000E280u + 4u * (n))
#define EDG_SCB_ICSR EDG_REG(0xE000ED04u)
#define EDG_SCB_VTOR EDG_REG(0xE000ED08u)
#define EDG_SCB_CPACR EDG_REG(0xE000ED88u)

#define EDG_SYST_CSR_ENABLE (1u << 0)
#define EDG_SYST_CSR_TICKINT (1u << 1)
#define EDG_SYST_CSR_CLKSOURCE_CPU (1u << 2)
#define EDG_SCB_ICSR_PENDSTSET (1u << 26)

static inline void edg_irq_disable(void) { __asm__ volatile("cpsid i" ::: "memory"); }
static inline void edg_irq_enable(void) { __asm__ volatile("cpsie i" ::: "memory"); }

static inline uint32_t edg_primask(void) {
    uint32_t value;
    __asm__ volatile("mrs %0, primask" : "=r"(value));
    return value;
}

/* Sleep until an interrupt is pending; it wakes the core even while PRIMASK masks it. */
static inline void edg_wait_for_interrupt(void) { __asm__ volatile("dsb\n\twfi" ::: "memory"); }

static inline void edg_barrier(void) { __asm__ volatile("dsb\n\tisb" ::: "memory"); }

/* ---- shared by the common startup and port ---- */

/* The stack is painted with this word at reset; edg_port_stack_unused counts what is left of it. */
#define EDG_STACK_PAINT 0xA5EDA5EDu

void edg_systick_handler(void);
void edg_uart_irq_handler(void);
/* Reports an exception on the UART (when it is up) and halts: see edg_cortex_m_port.c. */
void edg_fault_report(const uint32_t *frame, uint32_t ipsr) __attribute__((noreturn, used));
/* Sleeps for ever with every interrupt masked and SysTick stopped. */
void edg_halt(void) __attribute__((noreturn));

/* ---- what targets/<board>/port_<chip>.c implements ---- */

/* Clocks, pins and the UART at the board's baud rate (8N1), receiver on; its interrupt still masked. */
void edg_board_init(void);
/* Nonzero when a received byte is waiting. */
int edg_board_rx_ready(void);
/* The waiting byte (call only after edg_board_rx_ready). */
uint8_t edg_board_rx_read(void);
/* Sends one byte, blocking until the UART has taken it. */
void edg_board_tx(uint8_t byte);
/* enable != 0: the UART raises its interrupt line when a byte is waiting; 0: it lowers it. */
void edg_board_rx_wake(int enable);

#endif
