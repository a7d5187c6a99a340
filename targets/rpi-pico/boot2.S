/* rpi-pico: the RP2040's second-stage boot loader (boot2), our own. Not compiled by the firmware's
 * Makefile: boot2.c holds its assembled bytes and the CRC the boot ROM checks. After editing this file,
 * regenerate boot2.c (tests/test_targets_qemu.py checks that they agree):
 *
 *   arm-none-eabi-as -mcpu=cortex-m0plus -mthumb boot2.S -o /tmp/boot2.o
 *   arm-none-eabi-objcopy -O binary -j .boot2 /tmp/boot2.o /tmp/boot2.bin
 *   python -c "from pathlib import Path; from edgeml.codegen.linker import rp2040_boot2_c; \
 *     Path('targets/rpi-pico/boot2.c').write_text(rp2040_boot2_c(Path('/tmp/boot2.bin').read_bytes()))"
 *
 * The boot ROM (RP2040 datasheet 2.8.1) copies the first 256 bytes of flash to SRAM at 0x20041f00,
 * checks their CRC-32 and runs them, with the flash still in plain serial mode. This boot2 only asks
 * the boot ROM's own flash_enter_cmd_xip() (datasheet 2.8.3.1.3: execute-in-place with standard 03h
 * reads, which every QSPI flash supports) to map the flash at 0x10000000, then starts the firmware
 * from the vector table that follows in flash: VTOR, MSP and the reset handler. 03h reads are slow
 * (no quad mode, no fast-read); the 16 KB XIP cache hides much of it for loops. The code is
 * position-independent: it only uses PC-relative literals and absolute addresses. */
    .syntax unified
    .cpu cortex-m0plus
    .thumb
    .section .boot2, "ax"

    .equ ROM_FUNC_TABLE, 0x14      /* 16-bit pointer to the ROM's function table */
    .equ ROM_TABLE_LOOKUP, 0x18    /* 16-bit pointer to rom_table_lookup(table, code) */
    .equ CODE_CX, 0x5843           /* 'C' | 'X' << 8: flash_enter_cmd_xip */
    .equ VECTORS, 0x10000100       /* the firmware's vector table, right after boot2 in flash */
    .equ VTOR, 0xe000ed08

    .global edg_boot2_entry
    .type edg_boot2_entry, %function
edg_boot2_entry:
    movs r3, #ROM_FUNC_TABLE
    ldrh r0, [r3]
    movs r3, #ROM_TABLE_LOOKUP
    ldrh r2, [r3]
    ldr r1, =CODE_CX
    blx r2                         /* r0 = flash_enter_cmd_xip */
    blx r0                         /* XIP on */
    ldr r0, =VECTORS
    ldr r1, =VTOR
    str r0, [r1]
    ldmia r0!, {r1, r2}            /* initial SP, reset handler */
    msr msp, r1
    bx r2
    .ltorg
