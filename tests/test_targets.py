"""Board descriptions under targets/: every board loads, its numbers match the vendors', bad files are refused."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

import edgeml.targets as targets
from edgeml.cli import main
from edgeml.errors import EdgemlError
from edgeml.targets import BoardError, all_boards, board_names, load_board, load_board_file

KB = 1024
MB = 1024 * KB

EXPECTED_BOARDS = {
    "stm32f746g-disco", "nucleo-l4r5zi", "nucleo-h743zi", "nrf52840-dk", "rpi-pico", "stm32f411-blackpill",
    "qemu-mps2-an386", "qemu-mps2-an500", "qemu-netduinoplus2", "host",
}

# (board, all data RAM, flash) as the issue and the datasheets state them.
ISSUE_NUMBERS = [
    ("stm32f746g-disco", 320 * KB, 1 * MB),
    ("nucleo-l4r5zi", 640 * KB, 2 * MB),
    ("nrf52840-dk", 256 * KB, 1 * MB),
    ("rpi-pico", 264 * KB, 2 * MB),
    ("stm32f411-blackpill", 128 * KB, 512 * KB),
    ("qemu-netduinoplus2", 192 * KB, 1 * MB),
    ("nucleo-h743zi", 992 * KB, 2 * MB),  # + 64 KB ITCM and 4 KB backup SRAM, not data RAM
]

# The arena each board gives a model: its chosen contiguous regions less the firmware's reserve.
ARENA_BUDGETS = {
    "stm32f746g-disco": 320 * KB - 16 * KB,    # DTCM+SRAM1+SRAM2, contiguous
    "nucleo-l4r5zi": 640 * KB - 16 * KB,       # SRAM1 + SRAM2 (alias) + SRAM3, contiguous
    "nucleo-h743zi": 512 * KB,                 # AXI SRAM; firmware in DTCM
    "nrf52840-dk": 256 * KB - 16 * KB,
    "rpi-pico": 256 * KB - 16 * KB,            # striped SRAM0-3; stacks in SCRATCH_X/Y
    "stm32f411-blackpill": 128 * KB - 16 * KB,
    "qemu-mps2-an386": 4 * MB - 16 * KB,       # ZBT SSRAM2&3 of the AN386 image
    "qemu-mps2-an500": 4 * MB - 16 * KB,
    "qemu-netduinoplus2": 128 * KB - 16 * KB,  # SRAM1+SRAM2; QEMU 7.2 has no CCM
    "host": 1 << 30,
}

JSON_KEYS = {"name", "core", "clock_hz", "ram_bytes", "arena_budget_bytes", "flash_bytes", "uart", "flash_method",
             "emulated", "ram_regions"}

F411 = Path(targets.__file__).parent / "stm32f411-blackpill" / "board.toml"


def test_every_folder_is_a_board_named_after_it():
    folders = {p.name for p in Path(targets.__file__).parent.iterdir() if (p / "board.toml").is_file()}
    assert folders == EXPECTED_BOARDS
    assert set(board_names()) == EXPECTED_BOARDS
    for board in all_boards():
        assert board.name == Path(board.source).parent.name


@pytest.mark.parametrize("name", sorted(EXPECTED_BOARDS))
def test_board_loads_with_positive_budgets(name):
    board = load_board(name)
    assert 0 < board.arena_budget_bytes <= board.ram_bytes
    assert board.flash_bytes > 0
    assert board.uart.baud > 0
    assert board.arena_why.strip()
    assert board.arena_budget_bytes == ARENA_BUDGETS[name]


@pytest.mark.parametrize(("name", "ram", "flash"), ISSUE_NUMBERS)
def test_ram_and_flash_match_the_datasheets(name, ram, flash):
    board = load_board(name)
    assert (board.ram_bytes, board.flash_bytes) == (ram, flash)


def test_cores_and_gcc_flags():
    f746, h743, pico, host = (load_board(n) for n in ("stm32f746g-disco", "nucleo-h743zi", "rpi-pico", "host"))
    assert "-mfpu=fpv5-sp-d16" in f746.cflags and "-mfpu=fpv5-d16" in h743.cflags
    assert pico.core == "cortex-m0plus" and not pico.dsp and "-mfloat-abi=soft" in pico.cflags
    assert host.cflags == () and host.clock_hz == 0
    for board in all_boards():
        if board.name != "host":
            assert f"-mcpu={board.core}" in board.cflags and "-mthumb" in board.cflags


def test_emulated_boards_name_their_qemu_machine_and_memory():
    an386 = load_board("qemu-mps2-an386")
    assert an386.emulated and an386.emulation.qemu_machine == "mps2-an386"
    assert an386.uart.address == 0x40004000
    (arena,) = an386.arena_regions
    assert (arena.origin, arena.size) == (0x20000000, 4 * MB)
    assert (an386.flash.origin, an386.flash.size) == (0x0, 4 * MB)
    assert load_board("qemu-mps2-an500").core == "cortex-m7"
    netduino = load_board("qemu-netduinoplus2")
    assert netduino.emulation.qemu_machine == "netduinoplus2"
    assert {r.name: r.size for r in netduino.ram} == {"SRAM1": 112 * KB, "SRAM2": 16 * KB, "CCM": 64 * KB}
    assert not load_board("nucleo-l4r5zi").emulated and load_board("host").flash_method.kind == "native"


def test_multi_bank_arenas_are_contiguous():
    f746 = load_board("stm32f746g-disco")
    assert [r.name for r in f746.arena_regions] == ["DTCM", "SRAM1", "SRAM2"]
    assert f746.arena_origin == 0x20000000 and f746.arena_regions[-1].end == 0x20050000
    h743 = load_board("nucleo-h743zi")
    assert [r.name for r in h743.ram] == ["DTCM", "AXI_SRAM", "SRAM1", "SRAM2", "SRAM3", "SRAM4"]
    assert load_board("nucleo-l4r5zi").arena_regions[-1].end == 0x200A0000


def test_unknown_board_lists_the_known_ones():
    with pytest.raises(BoardError) as info:
        load_board("stm32f9-nope")
    message = str(info.value)
    assert "stm32f9-nope" in message
    assert all(name in message for name in EXPECTED_BOARDS)
    assert isinstance(info.value, EdgemlError)


def test_cli_json_lists_every_board():
    result = CliRunner().invoke(main, ["targets", "--json"])
    assert result.exit_code == 0, result.output
    boards = json.loads(result.output)
    assert {b["name"] for b in boards} == EXPECTED_BOARDS
    for entry in boards:
        assert set(entry) == JSON_KEYS
        assert isinstance(entry["emulated"], bool)
        assert any(region["arena"] for region in entry["ram_regions"])
    by_name = {b["name"]: b for b in boards}
    assert by_name["stm32f746g-disco"]["ram_bytes"] == 320 * KB
    assert by_name["qemu-mps2-an386"]["emulated"] is True


def test_cli_text_table():
    result = CliRunner().invoke(main, ["targets"])
    assert result.exit_code == 0, result.output
    assert all(name in result.output for name in EXPECTED_BOARDS)
    assert "216 MHz" in result.output and "qemu mps2-an386" in result.output


def test_a_copied_board_file_loads(tmp_path):
    path = tmp_path / "board.toml"
    path.write_text(F411.read_text())
    assert load_board_file(path) == replace(load_board("stm32f411-blackpill"), source=str(path))


def _broken(tmp_path, old: str, new: str) -> Path:
    text = F411.read_text()
    assert old in text
    path = tmp_path / "board.toml"
    path.write_text(text.replace(old, new, 1))
    return path


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("[arena]", "[arena", "not valid TOML"),
    ('core = "cortex-m4"\n', "", "missing key 'core'"),
    ("clock_hz = 100_000_000", 'clock_hz = "100 MHz"', "clock_hz must be an integer, got a string"),
    ("dsp = true", "dsp = 1", "arch.dsp must be true/false"),
    ("size = 131072", "size = true", "ram[0].size must be an integer"),
    ("size = 131072", "size = 0", "ram[0].size must be >= 1"),
    ("clock_hz =", "clock_mhz = 100\nclock_hz =", "unknown key(s) 'clock_mhz'"),
    ('regions = ["SRAM"]', 'regions = ["SRAM9"]', "unknown: SRAM9"),
    ("reserve_bytes = 16384", "reserve_bytes = 131072", "leaves nothing"),
    ('kind = "probe"', 'kind = "jtag"', "flash_method.kind must be one of probe, qemu, native"),
    ('kind = "probe"', 'kind = "qemu"', "go together"),
])
def test_malformed_board_files_are_refused_clearly(tmp_path, old, new, expected):
    path = _broken(tmp_path, old, new)
    with pytest.raises(BoardError) as info:
        load_board_file(path)
    assert str(path) in str(info.value)
    assert expected in str(info.value)


def test_non_contiguous_arena_is_refused(tmp_path):
    extra = '[[ram]]\nname = "FAR"\norigin = 0x30000000\nsize = 1024\n\n[arena]'
    path = _broken(tmp_path, "[arena]", extra)
    path.write_text(path.read_text().replace('regions = ["SRAM"]', 'regions = ["SRAM", "FAR"]'))
    with pytest.raises(BoardError, match="contiguous"):
        load_board_file(path)


def test_missing_file_is_a_board_error(tmp_path):
    with pytest.raises(BoardError, match="cannot read"):
        load_board_file(tmp_path / "nope" / "board.toml")


# ---------------------------------------------------------------- [firmware] and the generated build inputs

CORTEX_M = sorted(EXPECTED_BOARDS - {"host"})


def test_every_microcontroller_has_a_firmware_table_and_the_host_none():
    for name in CORTEX_M:
        board = load_board(name)
        assert board.firmware is not None and board.uart.irq is not None
        assert 0 < board.firmware.core_clock_hz <= board.clock_hz
        assert board.firmware.stack_bytes == 8 * KB
    assert load_board("host").firmware is None


def test_firmware_ram_placement():
    h743 = load_board("nucleo-h743zi")
    assert [r.name for r in h743.data_regions] == ["DTCM"] and h743.stack_regions == h743.data_regions
    pico = load_board("rpi-pico")
    assert [r.name for r in pico.stack_regions] == ["SCRATCH_X", "SCRATCH_Y"]
    assert pico.data_regions == pico.arena_regions and pico.firmware.boot2_bytes == 256
    f746 = load_board("stm32f746g-disco")
    assert f746.data_regions == f746.stack_regions == f746.arena_regions


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("stack_bytes = 8192", "stack_bytes = 8196", "multiple of 8"),
    ("stack_bytes = 8192", "stack_bytes = 16384", "must leave room in arena.reserve_bytes"),
    ("irq = 37 ", "irq = 86 ", "below firmware.irq_count"),
    ("irq = 37 ", "# irq = 37 ", "uart.irq must be"),
    ("core_clock_hz = 16_000_000", "core_clock_hz = 200_000_000", "above the chip's clock_hz"),
    ("irq_count = 86", 'irq_count = 86\ndata_regions = ["FLASHY"]', "unknown: FLASHY"),
    ("irq_count = 86", 'irq_count = 86\ndata_regions = ["SRAM"]', ""),  # the arena's own regions: allowed
    ("irq_count = 86", "irq_count = 86\nheap_bytes = 1", "unknown key(s) 'heap_bytes'"),
    ("[firmware]", "[firmwar]", "unknown key(s) 'firmwar'"),
])
def test_malformed_firmware_tables_are_refused(tmp_path, old, new, expected):
    path = _broken(tmp_path, old, new)
    if not expected:
        assert load_board_file(path).firmware is not None
        return
    with pytest.raises(BoardError) as info:
        load_board_file(path)
    assert expected in str(info.value)


def test_firmware_region_overlapping_the_arena_is_refused(tmp_path):
    extra = '[[ram]]\nname = "HIGH"\norigin = 0x20018000\nsize = 32768\n\n[arena]'
    path = _broken(tmp_path, "[arena]", extra)
    path.write_text(path.read_text().replace("irq_count = 86", 'irq_count = 86\nstack_regions = ["HIGH"]'))
    assert [r.name for r in load_board_file(path).stack_regions] == ["HIGH"]  # apart from the arena: fine
    text = path.read_text().replace('regions = ["SRAM"]', 'regions = ["SRAM", "HIGH"]', 1)
    path.write_text(text.replace("size = 131072", "size = 98304", 1))
    with pytest.raises(BoardError, match="stack_regions must be"):
        load_board_file(path)


def _memory(script: str) -> dict[str, tuple[int, int]]:
    return {m[0]: (int(m[1], 16), int(m[2])) for m in
            re.findall(r"^\s+(\w+)\s+\(\w+\)\s+: ORIGIN = (0x[0-9a-f]+), LENGTH = +(\d+)", script, re.M)}


@pytest.mark.parametrize("name", CORTEX_M)
def test_linker_script_takes_its_memory_from_the_board_file(name):
    from edgeml.codegen.linker import linker_script

    board = load_board(name)
    script = linker_script(board)
    memory = _memory(script)
    assert memory["FLASH"] == (board.flash.origin, board.flash.size)
    arena = board.arena_regions
    assert memory["RAM"] == (arena[0].origin, sum(r.size for r in arena))
    assert ("DATA" in memory) == (board.data_regions != arena)
    assert ("STACK" in memory) == (board.stack_regions not in (arena, board.data_regions))
    assert f"__edg_stack_bytes = {board.firmware.stack_bytes};" in script
    assert script.count("LONG(edg_default_handler | 1)") == board.firmware.irq_count - 1
    assert script.count("LONG(edg_uart_irq_handler | 1)") == 1
    assert ("reserve_bytes" in script) == (board.data_regions == arena)
    assert (".boot2" in script) == (board.firmware.boot2_bytes > 0)
    assert " ".join(f"BYTE({b:#04x})" for b in name.encode()[:8]) in script


def test_linker_script_ranges_are_the_h743_and_pico_special_cases():
    from edgeml.codegen.linker import linker_script

    h743 = _memory(linker_script(load_board("nucleo-h743zi")))
    assert h743["RAM"] == (0x24000000, 512 * KB) and h743["DATA"] == (0x20000000, 128 * KB)
    pico = _memory(linker_script(load_board("rpi-pico")))
    assert pico["STACK"] == (0x20040000, 8 * KB) and pico["RAM"] == (0x20000000, 256 * KB)


def test_target_sources_and_cflags():
    from edgeml.codegen.linker import common_dir, target_cflags, target_sources

    an386 = load_board("qemu-mps2-an386")
    names = [p.name for p in target_sources(an386)]
    assert {"edg_cortex_m_startup.c", "edg_cortex_m_port.c", "edg_cortex_m.h", "port_cmsdk_uart.c"} <= set(names)
    assert len(names) == len(set(names))
    assert target_cflags(an386) == [*an386.cflags, "-DEDG_CORE_HZ=25000000u", "-DEDG_UART_BAUD=115200u",
                                     "-DEDG_UART_IRQ=0u"]
    host = load_board("host")
    assert target_cflags(host) == [] and all(p.parent != common_dir() for p in target_sources(host))
    for name in CORTEX_M:
        ports = [p.name for p in target_sources(load_board(name)) if p.name.startswith("port_")]
        assert len(ports) == 1, (name, ports)


def test_rp2040_boot2_checksum():
    from edgeml.codegen.linker import crc32_mpeg2, rp2040_boot2_image

    assert crc32_mpeg2(b"123456789") == 0x0376E6E7  # the CRC-32/MPEG-2 check value
    image = rp2040_boot2_image(b"\x01\x02")
    assert len(image) == 256 and image[252:] == crc32_mpeg2(image[:252]).to_bytes(4, "little")
    with pytest.raises(EdgemlError, match="at most 252"):
        rp2040_boot2_image(bytes(253))
