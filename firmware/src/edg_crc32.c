/* edgeml C runtime: CRC-32 with a 16-entry table (64 bytes of flash, two lookups per byte): small
 * enough for the smallest boards, and the frames it checks are at most about 1 KB. */
#include "edg_crc32.h"

static const uint32_t nibble_table[16] = {
    0x00000000u, 0x1DB71064u, 0x3B6E20C8u, 0x26D930ACu, 0x76DC4190u, 0x6B6B51F4u, 0x4DB26158u, 0x5005713Cu,
    0xEDB88320u, 0xF00F9344u, 0xD6D6A3E8u, 0xCB61B38Cu, 0x9B64C2B0u, 0x86D3D2D4u, 0xA00AE278u, 0xBDBDF21Cu,
};

uint32_t edg_crc32_update(uint32_t reg, const void *data, size_t n) {
    const uint8_t *p = (const uint8_t *)data;
    for (size_t i = 0; i < n; ++i) {
        reg ^= p[i];
        reg = (reg >> 4) ^ nibble_table[reg & 0x0Fu];
        reg = (reg >> 4) ^ nibble_table[reg & 0x0Fu];
    }
    return reg;
}

uint32_t edg_crc32(const void *data, size_t n) { return edg_crc32_final(edg_crc32_update(EDG_CRC32_INIT, data, n)); }
