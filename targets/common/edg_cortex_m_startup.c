/* edgeml Cortex-M startup: the core's vector table, the reset handler and the default handler.
 *
 * The generated linker script (edgeml/codegen/linker.py) appends one vector per external interrupt
 * (the board's irq_count): the UART's receive interrupt goes to edg_uart_irq_handler, every other one to
 * edg_default_handler. It also defines the __edg_* symbols used here.
 */
#include <stddef.h>
#include <stdint.h>

#include "edg_cortex_m.h"

extern uint32_t __edg_stack_bottom[];
extern uint32_t __edg_stack_top[];
extern uint32_t __edg_data_start[];
extern uint32_t __edg_data_end[];
extern const uint32_t __edg_data_load[];
extern uint32_t __edg_bss_start[];
extern uint32_t __edg_bss_end[];
extern uint32_t __edg_arena_start[];
extern uint32_t __edg_arena_end[];

int main(void);

typedef void (*edg_handler_t)(void);

typedef struct {
    uint32_t *initial_sp;
    edg_handler_t core[15];
} edg_core_vectors_t;

void edg_reset_handler(void) __attribute__((noreturn));
void edg_default_handler(void) __attribute__((naked, noreturn));

/* Exceptions 1-15. Reserved slots and faults all go to the default handler, which reports and halts. */
__attribute__((section(".edg_vectors"), used)) const edg_core_vectors_t edg_core_vectors = {
    __edg_stack_top,
    {
        edg_reset_handler,   /* 1 Reset */
        edg_default_handler, /* 2 NMI */
        edg_default_handler, /* 3 HardFault */
        edg_default_handler, /* 4 MemManage */
        edg_default_handler, /* 5 BusFault */
        edg_default_handler, /* 6 UsageFault */
        edg_default_handler, /* 7 SecureFault / reserved */
        edg_default_handler, /* 8 reserved */
        edg_default_handler, /* 9 reserved */
        edg_default_handler, /* 10 reserved */
        edg_default_handler, /* 11 SVCall */
        edg_default_handler, /* 12 DebugMonitor */
        edg_default_handler, /* 13 reserved */
        edg_default_handler, /* 14 PendSV */
        edg_systick_handler, /* 15 SysTick */
    },
};

static size_t words_between(const uint32_t *start, const uint32_t *end) {
    return (size_t)(((uintptr_t)end - (uintptr_t)start) / sizeof(uint32_t));
}

/* Before any floating-point instruction: a separate function so that none is scheduled ahead of it. */
__attribute__((noinline)) static void enable_fpu(void) {
#if defined(__ARM_FP)
    EDG_SCB_CPACR |= 0xFu << 20; /* CP10 and CP11: full access */
    edg_barrier();
#endif
}

__attribute__((noinline)) static void init_memory(void) {
    size_t n = words_between(__edg_data_start, __edg_data_end);
    for (size_t i = 0; i < n; ++i) {
        __edg_data_start[i] = __edg_data_load[i];
    }
    n = words_between(__edg_bss_start, __edg_bss_end);
    for (size_t i = 0; i < n; ++i) {
        __edg_bss_start[i] = 0u;
    }
    /* The arena is a zero-initialised static array in C: keep that promise. */
    n = words_between(__edg_arena_start, __edg_arena_end);
    for (size_t i = 0; i < n; ++i) {
        __edg_arena_start[i] = 0u;
    }
}

/* Paint the stack below this frame, so that edg_port_stack_unused finds the high-water mark. */
__attribute__((noinline)) static void paint_stack(void) {
    uintptr_t sp;
    __asm__ volatile("mov %0, sp" : "=r"(sp));
    const uintptr_t margin = 64u; /* this function's own frame and the calls above it */
    size_t n = words_between(__edg_stack_bottom, (const uint32_t *)(sp - margin));
    for (size_t i = 0; i < n; ++i) {
        __edg_stack_bottom[i] = EDG_STACK_PAINT;
    }
}

void edg_reset_handler(void) {
    enable_fpu();
    /* A boot loader (the RP2040's boot2, a debugger) may have left VTOR elsewhere. */
    EDG_SCB_VTOR = (uint32_t)(uintptr_t)&edg_core_vectors;
    init_memory();
    paint_stack();
    (void)main();
    edg_halt();
}

/* Hand the exception frame (on MSP: the firmware never uses PSP) and IPSR to the C reporter. Written in
 * Thumb-1 so that it also runs on the Cortex-M0+, and through a literal so that the branch reaches. */
void edg_default_handler(void) {
    __asm__ volatile(
        "mrs r0, msp\n\t"
        "mrs r1, ipsr\n\t"
        "ldr r2, 1f\n\t"
        "bx r2\n\t"
        ".balign 4\n"
        "1: .word edg_fault_report\n");
}
