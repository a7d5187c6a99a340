"""A board's firmware build inputs, all derived from its board.toml: linker script, sources, C flags.

board.toml is the one source of truth for the memory map. The linker script generated here gives
the linker exactly the board's flash and RAM ranges, so the link itself fails when a model does not
fit:

- weights, code and .data's initial values go to FLASH: more than the board's flash overflows it;
- the firmware's stack, .data and .bss, and the model's arena go to RAM, the arena's range of the board
  (board.toml [arena] regions): more than that overflows it. When the firmware shares that range, an
  ASSERT also keeps it within [arena] reserve_bytes, the part the memory planner left for it;
- a board may give the firmware RAM of its own ([firmware] data_regions, stack_regions: DATA and STACK
  regions), as the H743 does with its DTCM.

The arena is recognised by its section: the generated model's static arena array, compiled with
-fdata-sections, lands in .bss.<prefix>_arena (or .bss.edg_arena, if given that section explicitly).

C flags: the board's -mcpu/-mfpu flags and three numbers the C needs at compile time, as -D flags:
EDG_CORE_HZ (the clock the firmware runs the core at: SysTick's rate), EDG_UART_BAUD and EDG_UART_IRQ.
The board's name reaches the firmware through the linker script (as bytes at __edg_target_name), so
no quoting of strings on command lines is needed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from edgeml.errors import EdgemlError
from edgeml.targets import Board, Firmware, MemoryRegion

SOURCE_SUFFIXES = (".c", ".h")
CORE_VECTORS = 16  # initial SP + 15 exceptions, in edg_cortex_m_startup.c


def _targets_dir() -> Path:
    """The installed targets package (edgeml.targets), wherever it lives."""
    import edgeml.targets

    return Path(edgeml.targets.__file__).resolve().parent


def common_dir() -> Path:
    """targets/common: the Cortex-M startup, port and UART helpers shared by every Cortex-M board."""
    return _targets_dir() / "common"


def board_dir(board: Board) -> Path:
    """The folder holding the board's board.toml and its port_<chip>.c."""
    return Path(board.source).resolve().parent


def is_native(board: Board) -> bool:
    return board.flash_method.kind == "native"


def target_sources(board: Board) -> list[Path]:
    """The C sources and headers the firmware needs for BOARD: targets/common (Cortex-M) + its own folder.

    The files are meant to be copied into one flat folder, so their names must not collide.
    """
    own = _sources(board_dir(board))
    if is_native(board):
        return own
    files = _sources(common_dir()) + own
    names = [f.name for f in files]
    clashes = sorted({n for n in names if names.count(n) > 1})
    if clashes:
        raise EdgemlError(f"{board.name}: {', '.join(clashes)} exist both in targets/common and in the board's "
                          "folder; rename the board's file")
    return files


def _sources(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix in SOURCE_SUFFIXES)


def target_cflags(board: Board) -> list[str]:
    """The compiler flags for BOARD: its architecture flags, and the board.toml numbers the C uses."""
    if is_native(board):
        return list(board.cflags)
    firmware = _firmware(board)
    return [*board.cflags, f"-DEDG_CORE_HZ={firmware.core_clock_hz}u", f"-DEDG_UART_BAUD={board.uart.baud}u",
            f"-DEDG_UART_IRQ={board.uart.irq}u"]


def target_ldflags(board: Board, script: Path) -> list[str]:
    """The link flags that go with linker_script(board) written to SCRIPT (what the tests use)."""
    if is_native(board):
        return []
    return [f"-T{script}", "-nostartfiles", "-Wl,--gc-sections", "--specs=nano.specs", "--specs=nosys.specs"]


def _firmware(board: Board) -> Firmware:
    if board.firmware is None:
        raise EdgemlError(f"{board.source}: has no [firmware] table, so no firmware can be built for it")
    return board.firmware


# ---------------------------------------------------------------- the linker script


@dataclass(frozen=True)
class _Range:
    """A MEMORY entry: one or more contiguous board.toml regions."""

    name: str
    regions: tuple[MemoryRegion, ...]

    @property
    def origin(self) -> int:
        return self.regions[0].origin

    @property
    def size(self) -> int:
        return sum(r.size for r in self.regions)

    def line(self, attributes: str) -> str:
        names = " + ".join(r.name for r in self.regions)
        return (f"  {self.name:<5} ({attributes}) : ORIGIN = {self.origin:#010x}, LENGTH = {self.size:>10}"
                f"  /* {names} */")


def _ranges(board: Board) -> tuple[_Range, _Range, _Range]:
    """(arena, data, stack) ranges; data and stack reuse the arena's range (and name) when they share it."""
    arena = _Range("RAM", board.arena_regions)
    data = arena if board.data_regions == arena.regions else _Range("DATA", board.data_regions)
    if board.stack_regions == data.regions:
        stack = data
    elif board.stack_regions == arena.regions:
        stack = arena
    else:
        stack = _Range("STACK", board.stack_regions)
    return arena, data, stack


def vector_table_alignment(irq_count: int) -> int:
    """VTOR needs the table aligned to a power of two at least its size (and at least 128 bytes)."""
    size = 4 * (CORE_VECTORS + irq_count)
    align = 128
    while align < size:
        align *= 2
    return align


def _name_bytes(name: str) -> str:
    if not name.isascii() or not name.isprintable():
        raise EdgemlError(f"board name {name!r} must be printable ASCII")
    data = [*name.encode(), 0]
    rows = [" ".join(f"BYTE({b:#04x})" for b in data[k:k + 8]) for k in range(0, len(data), 8)]
    return "\n".join(f"    {row}" for row in rows)


def _irq_vectors(irq_count: int, uart_irq: int) -> str:
    # ld gives a Thumb function's address without the Thumb bit here: set it, or the core faults (INVSTATE).
    lines = [f"    LONG(edg_default_handler | 1)  /* {k} */" for k in range(irq_count)]
    lines[uart_irq] = f"    LONG(edg_uart_irq_handler | 1)  /* {uart_irq}: the UART, wakes the firmware from WFI */"
    return "\n".join(lines)


def linker_script(board: Board) -> str:
    """The GNU ld script for BOARD's firmware (see the module docstring for what it enforces)."""
    firmware = _firmware(board)
    arena, data, stack = _ranges(board)
    ranges = {r.name: r for r in (arena, data, stack)}  # data and stack may share a range
    memory = [f"  FLASH (rx)  : ORIGIN = {board.flash.origin:#010x}, LENGTH = {board.flash.size:>10}  /* flash */",
              *(r.line("rwx") for r in ranges.values())]
    align = vector_table_alignment(firmware.irq_count)
    boot2 = ""
    if firmware.boot2_bytes:
        boot2 = f"""
  /* The second-stage boot loader the boot ROM copies to SRAM and checks (targets/{board.name}/boot2.c). */
  .boot2 :
  {{
    __edg_boot2_start = .;
    KEEP(*(.boot2))
  }} > FLASH
  ASSERT(SIZEOF(.boot2) == {firmware.boot2_bytes}, "edgeml: boot2 must be {firmware.boot2_bytes} bytes")
"""
    reserve = ""
    if data is arena:
        reserve = f"""
  /* The firmware shares the arena's range: it must stay within the reserve the memory planner left it. */
  __edg_firmware_ram_bytes = ADDR(.bss) + SIZEOF(.bss) - ORIGIN(RAM) - SIZEOF(.edg_arena);
  ASSERT(__edg_firmware_ram_bytes <= {board.arena_reserve_bytes}, "edgeml: the firmware's stack, .data and .bss \
exceed [arena] reserve_bytes of the board.toml")
"""
    return f"""/* Generated by edgeml (edgeml/codegen/linker.py) from {board.name}/board.toml: do not edit.
 * {board.description}
 * FLASH holds code, constants (the model's weights) and .data's initial values; RAM is the range the
 * arena lives in. A model too large for either makes the link fail with "region ... overflowed". */

ENTRY(edg_reset_handler)
/* Referenced only from this script's vector table: keep them through --gc-sections. */
EXTERN(edg_reset_handler edg_default_handler edg_uart_irq_handler edg_systick_handler)

MEMORY
{{
{chr(10).join(memory)}
}}

__edg_stack_bytes = {firmware.stack_bytes};

SECTIONS
{{{boot2}
  .vectors : ALIGN({align})
  {{
    __edg_vectors = .;
    KEEP(*(.edg_vectors))
    /* external interrupts 0-{firmware.irq_count - 1} */
{_irq_vectors(firmware.irq_count, board.uart.irq)}
  }} > FLASH
  ASSERT(ADDR(.vectors) % {align} == 0, "edgeml: the vector table is not aligned for VTOR")
  ASSERT(SIZEOF(.vectors) == {4 * (CORE_VECTORS + firmware.irq_count)}, "edgeml: the vector table has the wrong size")

  .text :
  {{
    *(.text .text.*)
    *(.glue_7 .glue_7t .vfp11_veneer .v4_bx)
    KEEP(*(.init)) KEEP(*(.fini))
  }} > FLASH

  .rodata : ALIGN(4)
  {{
    *(.rodata .rodata.*)
    . = ALIGN(4);
    KEEP(*(.preinit_array*)) KEEP(*(.init_array*)) KEEP(*(.fini_array*))
    /* The board's name for edg_port_target_name(), from board.toml. */
    __edg_target_name = .;
{_name_bytes(board.name)}
    . = ALIGN(4);
  }} > FLASH

  .ARM.extab : {{ *(.ARM.extab* .gnu.linkonce.armextab.*) }} > FLASH
  .ARM.exidx : {{ *(.ARM.exidx* .gnu.linkonce.armexidx.*) }} > FLASH

  /* The stack first, at the bottom of its range: an overflow runs off the RAM instead of into .data. */
  .stack (NOLOAD) : ALIGN(8)
  {{
    __edg_stack_bottom = .;
    . += __edg_stack_bytes;
    __edg_stack_top = .;
  }} > {stack.name}

  .data : ALIGN(4)
  {{
    __edg_data_start = .;
    *(.data .data.*)
    . = ALIGN(4);
    __edg_data_end = .;
  }} > {data.name} AT > FLASH
  __edg_data_load = LOADADDR(.data);

  /* Before .bss in this script, so that .bss.* does not take the arena first. */
  .edg_arena (NOLOAD) : ALIGN(16)
  {{
    __edg_arena_start = .;
    *(.bss.edg_arena .bss.edg_arena.* .bss.*_arena)
    . = ALIGN(4);
    __edg_arena_end = .;
  }} > RAM

  .bss (NOLOAD) : ALIGN(4)
  {{
    __edg_bss_start = .;
    *(.bss .bss.* COMMON)
    . = ALIGN(4);
    __edg_bss_end = .;
  }} > {data.name}
  PROVIDE(end = __edg_bss_end);
  PROVIDE(_end = __edg_bss_end);
{reserve}}}
"""


# ---------------------------------------------------------------- RP2040 boot2


def crc32_mpeg2(data: bytes) -> int:
    """CRC-32/MPEG-2 (polynomial 0x04C11DB7, not reflected, initial 0xFFFFFFFF, no final XOR): the check
    the RP2040 boot ROM makes over the first 252 bytes of flash."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) if crc & 0x80000000 else crc << 1
            crc &= 0xFFFFFFFF
    return crc


def rp2040_boot2_image(code: bytes) -> bytes:
    """CODE padded to 252 bytes with its CRC appended (little-endian): the 256 bytes the boot ROM accepts."""
    if len(code) > 252:
        raise EdgemlError(f"boot2 code is {len(code)} bytes; the RP2040 boot ROM takes at most 252")
    body = code.ljust(252, b"\0")
    return body + crc32_mpeg2(body).to_bytes(4, "little")


def rp2040_boot2_c(code: bytes) -> str:
    """The text of targets/rpi-pico/boot2.c for the assembled CODE of boot2.S."""
    image = rp2040_boot2_image(code)
    rows = [", ".join(f"0x{b:02x}" for b in image[k:k + 12]) for k in range(0, len(image), 12)]
    body = ",\n".join(f"    {row}" for row in rows)
    return f"""/* rpi-pico: the RP2040's second-stage boot loader, assembled from boot2.S (our own) and followed by
 * the CRC-32 the boot ROM checks. Generated: regenerate with the command at the top of boot2.S.
 *
 * The boot ROM copies these 256 bytes of flash to SRAM (0x20041f00) and runs them; boot2 asks the ROM's
 * flash_enter_cmd_xip() for execute-in-place with standard 03h reads, points VTOR at the vector table
 * that follows in flash (0x10000100), and starts the firmware from it. */
#include <stdint.h>

__attribute__((section(".boot2"), used)) const uint8_t edg_rp2040_boot2[256] = {{
{body}
}};
"""
