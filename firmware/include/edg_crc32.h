/* edgeml C runtime: CRC-32 (IEEE 802.3, as zlib.crc32 and Ethernet): reflected polynomial 0xEDB88320,
 * register initialised to 0xFFFFFFFF, result XORed with 0xFFFFFFFF. "123456789" gives 0xCBF43926.
 * Used by the serial protocol (frame check) and by the per-op trace (a digest of each op's output). */
#ifndef EDG_CRC32_H
#define EDG_CRC32_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define EDG_CRC32_INIT 0xFFFFFFFFu

/* Feeds n bytes into a running register (start from EDG_CRC32_INIT); no final XOR. */
uint32_t edg_crc32_update(uint32_t reg, const void *data, size_t n);

/* The finished CRC of a running register. */
static inline uint32_t edg_crc32_final(uint32_t reg) { return reg ^ 0xFFFFFFFFu; }

/* The CRC-32 of one buffer. */
uint32_t edg_crc32(const void *data, size_t n);

#ifdef __cplusplus
}
#endif
#endif
