/* edgeml C runtime: the few compiler-specific spellings, in one place. */
#ifndef EDG_COMPILER_H
#define EDG_COMPILER_H

#if defined(__GNUC__) || defined(__clang__)
#define EDG_ALIGNED __attribute__((aligned(4)))
/* Its own section, so linker scripts place the arena by name (e.g. in the board's largest SRAM). */
#define EDG_ARENA_ALIGNED __attribute__((aligned(16), section(".bss.edg_arena")))
#else
#define EDG_ALIGNED
#define EDG_ARENA_ALIGNED
#endif

#endif
