/* edgeml C runtime: the few compiler-specific spellings, in one place. */
#ifndef EDG_COMPILER_H
#define EDG_COMPILER_H

#if defined(__GNUC__) || defined(__clang__)
#define EDG_ALIGNED __attribute__((aligned(4)))
#define EDG_ARENA_ALIGNED __attribute__((aligned(16)))
#else
#define EDG_ALIGNED
#define EDG_ARENA_ALIGNED
#endif

#endif
