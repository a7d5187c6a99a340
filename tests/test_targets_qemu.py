"""The Cortex-M target layer: startup, port, UART drivers and generated linker scripts, built with
arm-none-eabi-gcc for every board and run under QEMU on the emulated ones.

A small self-test firmware (SELFTEST_C, below) uses only firmware/include/edg_port.h and answers
one-letter commands over the serial line. Every Cortex-M board must compile and link it within its
budgets, and fail to link when weights, arena or firmware exceed them; the emulated boards run it.
Tests skip visibly when arm-none-eabi-gcc or qemu-system-arm is missing.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import struct
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from edgeml.codegen import linker
from edgeml.codegen.linker import linker_script, rp2040_boot2_image, target_cflags, target_sources
from edgeml.firmware import INCLUDE_DIR
from edgeml.hil import qemu as qemu_module
from edgeml.hil.qemu import QemuError, QemuSession
from edgeml.targets import Board, all_boards, load_board

ARM_GCC = shutil.which("arm-none-eabi-gcc")
QEMU = shutil.which("qemu-system-arm")
needs_gcc = pytest.mark.skipif(ARM_GCC is None, reason="arm-none-eabi-gcc not installed "
                               "(apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi)")
needs_qemu = pytest.mark.skipif(QEMU is None or ARM_GCC is None, reason="qemu-system-arm or arm-none-eabi-gcc not "
                                "installed (apt-get install qemu-system-arm gcc-arm-none-eabi libnewlib-arm-none-eabi)")

CORTEX_M = [b.name for b in all_boards() if b.firmware is not None]
EMULATED = [b.name for b in all_boards() if b.emulated]
WARNINGS = ["-Wall", "-Wextra", "-Werror", "-Wconversion", "-Wno-sign-conversion"]
FAULT_LINE = b"!EDG FAULT exception "

SELFTEST_C = r"""/* edgeml target self-test: exercises edg_port.h over the serial line (tests/test_targets_qemu.py). */
#include <stddef.h>
#include <stdint.h>

#include "edg_port.h"

static volatile uint32_t initialised = 0x12345678u; /* .data */
static volatile uint32_t zeroed[4];                  /* .bss */
#ifndef SELFTEST_ARENA_BYTES
#define SELFTEST_ARENA_BYTES 64
#endif
static volatile uint8_t selftest_arena[SELFTEST_ARENA_BYTES]; /* lands in the arena (.bss.*_arena) */
static uint8_t buffer[256];
#ifdef SELFTEST_WEIGHT_BYTES /* a model's constants, in flash */
static const uint8_t weights[SELFTEST_WEIGHT_BYTES] = {1};
#endif
#ifdef SELFTEST_BSS_BYTES /* firmware buffers, outside the arena */
static volatile uint8_t firmware_buffer[SELFTEST_BSS_BYTES];
#endif

static void put_u32(uint32_t v) {
    const uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    edg_port_write(b, 4);
}

static void put_u64(uint64_t v) {
    put_u32((uint32_t)v);
    put_u32((uint32_t)(v >> 32));
}

static uint32_t get_u32(void) {
    uint32_t v = 0;
    for (unsigned k = 0; k < 4; ++k) {
        v |= (uint32_t)edg_port_read_byte() << (8u * k);
    }
    return v;
}

/* Exactly two instructions per iteration (GCC hands Thumb-1 inline assembly over in divided syntax). */
__attribute__((noinline)) static void spin(uint32_t n) {
#if defined(__thumb2__)
    __asm__ volatile("1: subs %0, %0, #1\n\tbne 1b" : "+l"(n) : : "cc");
#else
    __asm__ volatile("1: sub %0, #1\n\tbne 1b" : "+l"(n) : : "cc");
#endif
}

__attribute__((noinline)) static uint32_t use_stack(uint32_t seed) {
    volatile uint8_t block[2048];
    for (uint32_t k = 0; k < sizeof block; ++k) {
        block[k] = (uint8_t)(seed + k);
    }
    return block[seed % sizeof block];
}

static void checks(void) {
    uint8_t ok[3] = {initialised == 0x12345678u, 1, 1};
    for (unsigned k = 0; k < 4; ++k) {
        ok[1] = (uint8_t)(ok[1] && zeroed[k] == 0u);
    }
    for (uint32_t k = 0; k < sizeof selftest_arena; ++k) {
        ok[2] = (uint8_t)(ok[2] && selftest_arena[k] == 0u);
    }
    edg_port_write(ok, sizeof ok);
}

static void float_check(void) {
    volatile float a = 1.5f, b = 2.25f;
    union {
        float f;
        uint32_t u;
    } r;
    r.f = a * b;
    put_u32(r.u);
}

int main(void) {
    edg_port_init();
    for (;;) {
        const uint8_t command = edg_port_read_byte();
        switch (command) {
        case 'N': {
            const char *name = edg_port_target_name();
            size_t n = 0;
            while (name[n] != '\0') {
                ++n;
            }
            edg_port_write((const uint8_t *)name, n);
            edg_port_write((const uint8_t *)"\n", 1);
            break;
        }
        case 'E': { /* echo: byte by byte */
            const uint32_t n = get_u32();
            for (uint32_t k = 0; k < n; ++k) {
                const uint8_t byte = edg_port_read_byte();
                edg_port_write(&byte, 1);
            }
            break;
        }
        case 'R': { /* receive n bytes, answer their sum (host -> device throughput) */
            const uint32_t n = get_u32();
            uint32_t sum = 0;
            for (uint32_t k = 0; k < n; ++k) {
                sum += edg_port_read_byte();
            }
            put_u32(sum);
            break;
        }
        case 'T': { /* send n bytes of a counting pattern (device -> host throughput) */
            const uint32_t n = get_u32();
            for (uint32_t k = 0; k < sizeof buffer; ++k) {
                buffer[k] = (uint8_t)k;
            }
            for (uint32_t k = 0; k < n; k += sizeof buffer) {
                edg_port_write(buffer, n - k < sizeof buffer ? n - k : sizeof buffer);
            }
            break;
        }
        case 'L': { /* ticks around a loop of 2 * n instructions */
            const uint32_t n = get_u32();
            const uint64_t t0 = edg_port_ticks();
            spin(n);
            const uint64_t t1 = edg_port_ticks();
            put_u64(t0);
            put_u64(t1);
            break;
        }
        case 'H':
            put_u32(edg_port_tick_hz());
            break;
        case 'S':
            put_u32(edg_port_stack_size());
            put_u32(edg_port_stack_unused());
            break;
        case 'U':
            put_u32(use_stack(get_u32()));
            break;
        case 'D':
            checks();
            break;
#ifdef SELFTEST_WEIGHT_BYTES
        case 'W': {
            const uint8_t w = weights[get_u32() % SELFTEST_WEIGHT_BYTES];
            edg_port_write(&w, 1);
            break;
        }
#endif
#ifdef SELFTEST_BSS_BYTES
        case 'B':
            firmware_buffer[get_u32() % SELFTEST_BSS_BYTES] = 1u;
            break;
#endif
        case 'F':
            float_check();
            break;
        case 'X':
            __builtin_trap();
            break;
        default:
            edg_port_write((const uint8_t *)"?", 1);
            break;
        }
    }
}
"""


# ---------------------------------------------------------------- building


class BuildFailed(Exception):
    """The compiler or linker refused; the message is its output."""


def build_selftest(board: Board, outdir: Path, *defines: str, opt: str = "-O2") -> Path:
    """The self-test firmware for BOARD, laid out as `edgeml convert` lays out a project (target/ flat)."""
    target = outdir / "target"
    target.mkdir(parents=True, exist_ok=True)
    for source in target_sources(board):
        shutil.copy2(source, target / source.name)
    (target / "link.ld").write_text(linker_script(board))
    (outdir / "selftest.c").write_text(SELFTEST_C)
    elf = outdir / "selftest.elf"
    command = [ARM_GCC, "-std=c99", opt, "-g", *target_cflags(board), "-ffunction-sections", "-fdata-sections",
               *WARNINGS, *(f"-D{d}" for d in defines), f"-I{target}", f"-I{INCLUDE_DIR}",
               str(outdir / "selftest.c"), *sorted(str(p) for p in target.glob("*.c")),
               *linker.target_ldflags(board, target / "link.ld"), "-lm", "-o", str(elf)]
    proc = subprocess.run(command, capture_output=True, text=True)
    if proc.returncode != 0:
        raise BuildFailed(proc.stdout + proc.stderr)
    return elf


@dataclass
class Elf:
    """Just enough of an ELF32 little-endian image: allocated sections and the symbol table."""

    data: bytes
    sections: dict[str, tuple[int, int, int, int]]  # name -> (type, address, file offset, size)
    symbols: dict[str, int]

    @classmethod
    def read(cls, path: Path) -> Elf:
        data = path.read_bytes()
        assert data[:4] == b"\x7fELF" and data[4] == 1 and data[5] == 1, "not an ELF32 little-endian file"
        shoff, = struct.unpack_from("<I", data, 0x20)
        shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x2E)
        headers = [struct.unpack_from("<10I", data, shoff + k * shentsize) for k in range(shnum)]
        names_at = headers[shstrndx][4]

        def name(table_offset: int, index: int) -> str:
            return data[table_offset + index:data.index(b"\0", table_offset + index)].decode()

        sections = {name(names_at, h[0]): (h[1], h[3], h[4], h[5]) for h in headers}
        symbols = {}
        for h in headers:
            if h[1] == 2:  # SHT_SYMTAB; its sh_link is the string table
                strings = headers[h[6]][4]
                for k in range(h[5] // 16):
                    st_name, value = struct.unpack_from("<II", data, h[4] + 16 * k)
                    if st_name:
                        symbols[name(strings, st_name)] = value
        return cls(data, sections, symbols)

    def read_bytes(self, address: int, n: int) -> bytes:
        for kind, start, offset, size in self.sections.values():
            if kind == 1 and start <= address and address + n <= start + size:  # SHT_PROGBITS
                return self.data[offset + address - start:offset + address - start + n]
        raise AssertionError(f"{address:#x} is in no section with contents")

    def words(self, address: int, n: int) -> tuple[int, ...]:
        return struct.unpack(f"<{n}I", self.read_bytes(address, 4 * n))

    def c_string(self, address: int) -> str:
        chunk = self.read_bytes(address, 1)
        out = b""
        while chunk != b"\0":
            out += chunk
            address += 1
            chunk = self.read_bytes(address, 1)
        return out.decode()


def span(regions) -> tuple[int, int]:
    return regions[0].origin, regions[-1].end


@pytest.fixture(scope="module")
def selftest_elfs(tmp_path_factory) -> dict[str, Path]:
    """The self-test firmware of every Cortex-M board, built once."""
    if ARM_GCC is None:
        pytest.skip("arm-none-eabi-gcc not installed (apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi)")
    root = tmp_path_factory.mktemp("selftest")
    return {name: build_selftest(load_board(name), root / name) for name in CORTEX_M}


# ---------------------------------------------------------------- every board: compile, link, budgets


@needs_gcc
@pytest.mark.parametrize("name", CORTEX_M)
def test_every_board_links_into_its_memory_map(selftest_elfs, name):
    board = load_board(name)
    elf = Elf.read(selftest_elfs[name])
    sym = elf.symbols
    firmware = board.firmware
    assert sym["__edg_vectors"] == board.flash.origin + firmware.boot2_bytes
    assert sym["__edg_stack_top"] - sym["__edg_stack_bottom"] == firmware.stack_bytes
    low, high = span(board.stack_regions)
    assert low <= sym["__edg_stack_bottom"] and sym["__edg_stack_top"] <= high
    low, high = span(board.arena_regions)
    assert low <= sym["__edg_arena_start"] < sym["__edg_arena_end"] <= high
    assert sym["__edg_arena_end"] - sym["__edg_arena_start"] == 64  # the self-test's selftest_arena
    low, high = span(board.data_regions)
    assert low <= sym["__edg_data_start"] and sym["__edg_bss_end"] <= high
    flash_end = board.flash.origin + board.flash.size
    assert board.flash.origin <= sym["__edg_data_load"] < flash_end
    assert elf.c_string(sym["__edg_target_name"]) == name


@needs_gcc
@pytest.mark.parametrize("name", CORTEX_M)
def test_vector_table_points_at_thumb_handlers(selftest_elfs, name):
    board = load_board(name)
    elf = Elf.read(selftest_elfs[name])
    sym = elf.symbols
    count = 16 + board.firmware.irq_count
    vectors = elf.words(sym["__edg_vectors"], count)
    assert vectors[0] == sym["__edg_stack_top"]
    assert vectors[1] == sym["edg_reset_handler"] | 1
    assert vectors[15] == sym["edg_systick_handler"] | 1
    irqs = vectors[16:]
    assert irqs[board.uart.irq] == sym["edg_uart_irq_handler"] | 1
    assert all(v == sym["edg_default_handler"] | 1 for k, v in enumerate(irqs) if k != board.uart.irq)
    assert sym["__edg_vectors"] % linker.vector_table_alignment(board.firmware.irq_count) == 0


@needs_gcc
@pytest.mark.parametrize("name", CORTEX_M)
def test_link_fails_when_weights_exceed_flash(tmp_path, name):
    board = load_board(name)
    build_selftest(board, tmp_path / "fits", f"SELFTEST_WEIGHT_BYTES={board.flash.size - 64 * 1024}")
    with pytest.raises(BuildFailed, match="region `FLASH' overflowed"):
        build_selftest(board, tmp_path / "over", f"SELFTEST_WEIGHT_BYTES={board.flash.size}")


@needs_gcc
@pytest.mark.parametrize("name", CORTEX_M)
def test_arena_of_the_budget_links_and_beyond_the_ram_fails(tmp_path, name):
    """The planner's budget (arena regions less the reserve) is what the linker script really gives."""
    board = load_board(name)
    build_selftest(board, tmp_path / "fits", f"SELFTEST_ARENA_BYTES={board.arena_budget_bytes}")
    low, high = span(board.arena_regions)
    with pytest.raises(BuildFailed, match="region `RAM' overflowed"):
        build_selftest(board, tmp_path / "over", f"SELFTEST_ARENA_BYTES={high - low + 1}")


@needs_gcc
@pytest.mark.parametrize("name", [n for n in CORTEX_M if load_board(n).data_regions == load_board(n).arena_regions])
def test_firmware_ram_beyond_the_reserve_fails(tmp_path, name):
    board = load_board(name)
    with pytest.raises(BuildFailed, match=re.escape("exceed [arena] reserve_bytes")):
        build_selftest(board, tmp_path, f"SELFTEST_BSS_BYTES={board.arena_reserve_bytes}")


@needs_gcc
def test_h743_keeps_the_firmware_in_dtcm_and_gives_the_axi_sram_to_the_arena(tmp_path):
    board = load_board("nucleo-h743zi")
    elf = Elf.read(build_selftest(board, tmp_path / "fits", f"SELFTEST_ARENA_BYTES={512 * 1024}"))
    assert elf.symbols["__edg_arena_start"] == 0x24000000
    assert elf.symbols["__edg_stack_bottom"] == 0x20000000
    with pytest.raises(BuildFailed, match="region `DATA' overflowed"):
        build_selftest(board, tmp_path / "over", f"SELFTEST_BSS_BYTES={128 * 1024}")


@needs_gcc
@pytest.mark.parametrize("opt", ["-O0", "-Os", "-O3"])
def test_target_code_is_warning_free_at_every_optimisation(tmp_path, opt):
    for name in ("qemu-mps2-an386", "rpi-pico", "nucleo-h743zi", "nrf52840-dk"):
        build_selftest(load_board(name), tmp_path / name, opt=opt)


@needs_gcc
def test_rp2040_boot2_matches_its_source_and_its_crc(tmp_path, selftest_elfs):
    folder = Path(linker.board_dir(load_board("rpi-pico")))
    obj, binary = tmp_path / "boot2.o", tmp_path / "boot2.bin"
    subprocess.run(["arm-none-eabi-as", "-mcpu=cortex-m0plus", "-mthumb", str(folder / "boot2.S"), "-o", str(obj)],
                   check=True)
    subprocess.run(["arm-none-eabi-objcopy", "-O", "binary", "-j", ".boot2", str(obj), str(binary)], check=True)
    expected = linker.rp2040_boot2_c(binary.read_bytes())
    assert (folder / "boot2.c").read_text() == expected, "boot2.c is stale: regenerate it (see boot2.S)"
    elf = Elf.read(selftest_elfs["rpi-pico"])
    image = elf.read_bytes(0x10000000, 256)
    assert image == rp2040_boot2_image(binary.read_bytes())
    assert int.from_bytes(image[252:], "little") == linker.crc32_mpeg2(image[:252])


# ---------------------------------------------------------------- emulated boards under QEMU


def command(qemu: QemuSession, letter: bytes, *args: int) -> None:
    qemu.write(letter + b"".join(struct.pack("<I", a) for a in args))


def handshake(qemu: QemuSession, name: str) -> None:
    """Ask the name until it comes: the netduinoplus2's USART drops what arrives before it is enabled."""
    expected = name.encode() + b"\n"
    for _ in range(50):
        command(qemu, b"N")
        try:
            reply = qemu.read_exact(len(expected), timeout=0.2)
        except QemuError:
            continue
        time.sleep(0.1)  # answers to repeated requests, if any
        qemu.serial.reset_input_buffer()
        assert reply == expected
        return
    raise AssertionError(f"no answer from the self-test on {name}:\n{qemu.stderr_text()}")


@pytest.fixture(scope="module", params=EMULATED)
def guest(request, selftest_elfs):
    if QEMU is None:
        pytest.skip("qemu-system-arm not installed (apt-get install qemu-system-arm)")
    board = load_board(request.param)
    with QemuSession.for_board(board, selftest_elfs[board.name], timeout=20) as session:
        handshake(session, board.name)
        yield board, session


def ticks_around_loop(qemu: QemuSession, iterations: int) -> int:
    command(qemu, b"L", iterations)
    t0, t1 = struct.unpack("<QQ", qemu.read_exact(16))
    return t1 - t0


@pytest.mark.qemu
@needs_qemu
def test_guest_reports_its_name_and_initialised_memory(guest):
    board, qemu = guest
    command(qemu, b"N")
    assert qemu.read_exact(len(board.name) + 1) == board.name.encode() + b"\n"
    command(qemu, b"D")
    assert qemu.read_exact(3) == b"\x01\x01\x01", "(.data initialised, .bss zeroed, arena zeroed)"


@pytest.mark.qemu
@needs_qemu
def test_guest_floating_point_works(guest):
    _, qemu = guest
    command(qemu, b"F")
    assert struct.unpack("<f", qemu.read_exact(4))[0] == 1.5 * 2.25


@pytest.mark.qemu
@needs_qemu
def test_ticks_count_instructions_at_the_core_clock(guest):
    """Under -icount shift=0 an instruction is 1 ns: ticks = instructions * core_clock_hz / 1e9."""
    board, qemu = guest
    command(qemu, b"H")
    (tick_hz,) = struct.unpack("<I", qemu.read_exact(4))
    assert tick_hz == board.firmware.core_clock_hz
    small, large = 100_000, 1_100_000  # 2 instructions per iteration
    ticks_small = ticks_around_loop(qemu, small)
    ticks_large = ticks_around_loop(qemu, large)
    instructions = 2 * (large - small)
    expected = instructions * tick_hz / 1e9
    assert abs((ticks_large - ticks_small) - expected) <= 2
    print(f"\n{board.name}: {instructions / (ticks_large - ticks_small):.3f} instructions per tick "
          f"(tick_hz {tick_hz}); loop of {2 * large} instructions = {ticks_large} ticks")


@pytest.mark.qemu
@needs_qemu
def test_tick_counts_repeat_within_one_tick(guest):
    """The only variation left is where the first instruction falls on the tick grid (+-1 tick)."""
    _, qemu = guest
    counts = []
    for _ in range(6):
        time.sleep(random.uniform(0.0, 0.05))  # idle time moves the emulated clock by a random amount
        counts.append(ticks_around_loop(qemu, 500_000))
    assert max(counts) - min(counts) <= 1, counts


@pytest.mark.qemu
@needs_qemu
def test_stack_high_water_mark(guest):
    board, qemu = guest
    command(qemu, b"S")
    size, unused_before = struct.unpack("<II", qemu.read_exact(8))
    assert size == board.firmware.stack_bytes
    assert 0 < unused_before < size
    command(qemu, b"U", 7)  # a function with a 2 KB local array
    qemu.read_exact(4)
    command(qemu, b"S")
    _, unused_after = struct.unpack("<II", qemu.read_exact(8))
    assert size - unused_after >= 2048 and unused_after < unused_before


@pytest.mark.qemu
@needs_qemu
def test_serial_echo_and_throughput(guest):
    board, qemu = guest
    data = random.Random(1).randbytes(4096)
    command(qemu, b"E", len(data))
    qemu.write(data)
    assert qemu.read_exact(len(data)) == data
    n = 32 * 1024
    start = time.monotonic()
    command(qemu, b"R", n)
    qemu.write(bytes(range(256)) * (n // 256))
    assert struct.unpack("<I", qemu.read_exact(4))[0] == n // 256 * sum(range(256))
    up = n / (time.monotonic() - start) / 1024
    n = 256 * 1024
    start = time.monotonic()
    command(qemu, b"T", n)
    assert qemu.read_exact(n) == bytes(range(256)) * (n // 256)
    down = n / (time.monotonic() - start) / 1024
    print(f"\n{board.name}: host->device {up:.1f} KB/s, device->host {down:.1f} KB/s")


@pytest.mark.qemu
@needs_qemu
def test_idle_guest_sleeps(guest):
    """Waiting for a byte in WFI: QEMU uses (almost) no host CPU."""
    _, qemu = guest
    before = qemu.cpu_seconds()
    time.sleep(1.0)
    assert qemu.cpu_seconds() - before < 0.2


@pytest.mark.qemu
@needs_qemu
@pytest.mark.parametrize("name", EMULATED)
def test_fault_is_reported_and_the_guest_halts(selftest_elfs, name):
    board = load_board(name)
    with QemuSession.for_board(board, selftest_elfs[name]) as qemu:
        handshake(qemu, name)
        command(qemu, b"X")  # __builtin_trap(): UDF, escalated to HardFault (exception 3)
        line = qemu.read_exact(len(FAULT_LINE) + 2 + 8 + 4 + 8 + 2)
        assert line.startswith(b"\r\n" + FAULT_LINE + b"00000003 pc "), line
        pc = int(line[-10:-2], 16)
        assert board.flash.origin <= pc < board.flash.origin + board.flash.size
        before = qemu.cpu_seconds()
        time.sleep(0.5)
        assert qemu.alive() and qemu.cpu_seconds() - before < 0.2


# ---------------------------------------------------------------- the session itself


@pytest.mark.qemu
@needs_qemu
def test_session_kills_qemu_on_exit(selftest_elfs):
    with QemuSession.for_board(load_board("qemu-mps2-an386"), selftest_elfs["qemu-mps2-an386"]) as qemu:
        pid = qemu.pid
        assert qemu.alive()
    assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text()


@pytest.mark.qemu
@needs_qemu
def test_qemu_dying_is_a_clear_error(selftest_elfs):
    with QemuSession.for_board(load_board("qemu-mps2-an386"), selftest_elfs["qemu-mps2-an386"]) as qemu:
        handshake(qemu, "qemu-mps2-an386")
        os.kill(qemu.pid, 9)
        with pytest.raises(QemuError, match="exited with code"):
            command(qemu, b"N")
            qemu.read_exact(16, timeout=5)


@pytest.mark.qemu
@needs_qemu
def test_qemu_refusing_to_start_shows_its_message(selftest_elfs):
    session = QemuSession(selftest_elfs["qemu-mps2-an386"], "nonesuch")
    with pytest.raises(QemuError, match=r"(?s)exited with code.*nonesuch"), session:
        pass


def test_missing_qemu_names_the_debian_package(monkeypatch, tmp_path):
    monkeypatch.setattr(qemu_module.shutil, "which", lambda name: None)
    elf = tmp_path / "x.elf"
    elf.write_bytes(b"")
    with pytest.raises(QemuError, match="apt-get install --no-install-recommends qemu-system-arm"), \
            QemuSession(elf, "mps2-an386"):
        pass


@pytest.mark.skipif(QEMU is None, reason="qemu-system-arm not installed (apt-get install qemu-system-arm)")
def test_missing_elf_is_a_clear_error(tmp_path):
    with pytest.raises(QemuError, match="no such firmware image"), QemuSession(tmp_path / "nope.elf", "mps2-an386"):
        pass


def test_real_boards_are_not_emulated(tmp_path):
    with pytest.raises(QemuError, match="not an emulated board"):
        QemuSession.for_board(load_board("nucleo-l4r5zi"), tmp_path / "x.elf")
