"""The boards edgeml targets: one folder per board under targets/, described by its board.toml.

Layout. The repository's top-level targets/ folder installs as the package ``edgeml.targets``
(pyproject maps it with package-dir, as it maps converters/ to edgeml.converters), and this
module, its ``__init__``, is the loader. So there is one name, ``edgeml.targets``, for both the
board folders and the code that reads them: ``from edgeml.targets import load_board``. The
board files are package data (``*/board.toml``) and are read with importlib.resources relative
to this package, which finds them in the repository (editable install) and in an installed
wheel alike. There is deliberately no edgeml/targets.py: a module of that name would shadow
this package in the repository. Later files of a board (linker script, startup, UART driver)
go in the same folder and only need adding to the package-data patterns.

A board.toml holds: name (= folder name), description, core, clock_hz (0 only for the native
host); [arch] cflags (the gcc -mcpu/-mfpu/-mfloat-abi/-mthumb flags) and dsp; [[ram]] regions
(name, origin, size in bytes, note); [arena] regions (contiguous, in address order),
reserve_bytes (the part of them left to the firmware's stack, .data and .bss) and why; [flash]
origin and size; [uart] peripheral, connection, baud (and tx/rx pins or address, and irq: its NVIC
interrupt number); [firmware] (every board but the native host) the clock the firmware runs the core
at (core_clock_hz, clock_source), stack_bytes, irq_count (the chip's external interrupt vectors),
optional data_regions / stack_regions (where .data/.bss and the stack go when not in the arena's
range) and boot2_bytes (a second-stage boot loader before the vector table, RP2040); [flash_method]
kind ("probe", "qemu" or "native") with pyocd_target/pyocd_pack/openocd/probe for probes; and,
for emulated boards, [emulation] qemu_machine, emulates, notes and [[emulation.memory]] (what
QEMU maps, measured).
"""

from __future__ import annotations

import itertools
import tomllib
from dataclasses import dataclass, replace
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from edgeml.errors import EdgemlError

BOARD_FILE = "board.toml"
FLASH_KINDS = ("probe", "qemu", "native")


class BoardError(EdgemlError):
    """A board name is unknown, or a board.toml is malformed."""


@dataclass(frozen=True)
class MemoryRegion:
    """A range of the address space: a RAM bank, the flash, or what QEMU maps."""

    name: str
    origin: int
    size: int
    note: str = ""

    @property
    def end(self) -> int:
        """First address past the region."""
        return self.origin + self.size

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "origin": self.origin, "size": self.size, "note": self.note}


@dataclass(frozen=True)
class Uart:
    """The serial port the verification protocol runs over."""

    peripheral: str
    connection: str
    baud: int
    tx: str = ""
    rx: str = ""
    address: int | None = None
    irq: int | None = None  # NVIC interrupt number of its receiver (wakes the firmware from WFI)

    def summary(self) -> str:
        pins = f" {self.tx}/{self.rx}" if self.tx else ""
        return f"{self.peripheral}{pins} @{self.baud}"

    def to_json(self) -> dict[str, Any]:
        return {"peripheral": self.peripheral, "tx": self.tx, "rx": self.rx, "address": self.address,
                "connection": self.connection, "baud": self.baud}


@dataclass(frozen=True)
class FlashMethod:
    """How a program gets onto the board: a debug probe, QEMU, or a native build."""

    kind: str
    probe: str = ""
    pyocd_target: str = ""
    pyocd_pack: bool = False
    openocd: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "probe": self.probe, "pyocd_target": self.pyocd_target,
                "pyocd_pack": self.pyocd_pack, "openocd": list(self.openocd)}


@dataclass(frozen=True)
class Firmware:
    """How the firmware uses the chip: the clock it runs the core at, its stack, where its own RAM goes."""

    core_clock_hz: int  # what the firmware's clock setup gives the core (SysTick counts it)
    clock_source: str
    stack_bytes: int
    irq_count: int  # external interrupt vectors after the 16 of the core
    data_region_names: tuple[str, ...]  # .data/.bss; empty: in the arena's range, within its reserve
    stack_region_names: tuple[str, ...]  # empty: with .data/.bss
    boot2_bytes: int = 0  # bytes before the vector table for a second-stage boot loader (RP2040)


@dataclass(frozen=True)
class Emulation:
    """The QEMU machine of an emulated board and the memory it maps (measured)."""

    qemu_machine: str
    emulates: str
    memory: tuple[MemoryRegion, ...]
    notes: str = ""


@dataclass(frozen=True)
class Board:
    """One target board, as its board.toml describes it."""

    name: str
    description: str
    core: str
    clock_hz: int
    cflags: tuple[str, ...]
    dsp: bool
    ram: tuple[MemoryRegion, ...]
    arena_region_names: tuple[str, ...]
    arena_reserve_bytes: int
    arena_why: str
    flash: MemoryRegion
    uart: Uart
    flash_method: FlashMethod
    emulation: Emulation | None
    source: str  # the board.toml it was read from, for messages
    firmware: Firmware | None = None  # None only for the native host

    @property
    def emulated(self) -> bool:
        return self.emulation is not None

    @property
    def ram_bytes(self) -> int:
        """All data RAM of the board, every bank."""
        return sum(region.size for region in self.ram)

    @property
    def arena_regions(self) -> tuple[MemoryRegion, ...]:
        by_name = {region.name: region for region in self.ram}
        return tuple(by_name[name] for name in self.arena_region_names)

    def _regions(self, names: tuple[str, ...]) -> tuple[MemoryRegion, ...]:
        by_name = {region.name: region for region in self.ram}
        return tuple(by_name[name] for name in names)

    @property
    def data_regions(self) -> tuple[MemoryRegion, ...]:
        """Where the firmware's .data and .bss go: their own regions, or the arena's range (in its reserve)."""
        names = self.firmware.data_region_names if self.firmware else ()
        return self._regions(names) if names else self.arena_regions

    @property
    def stack_regions(self) -> tuple[MemoryRegion, ...]:
        """Where the firmware's stack goes: its own regions, or with .data/.bss."""
        names = self.firmware.stack_region_names if self.firmware else ()
        return self._regions(names) if names else self.data_regions

    @property
    def arena_origin(self) -> int:
        return self.arena_regions[0].origin

    @property
    def arena_budget_bytes(self) -> int:
        """The RAM a model's arena may use: the arena regions less the firmware's reserve."""
        return sum(region.size for region in self.arena_regions) - self.arena_reserve_bytes

    @property
    def flash_bytes(self) -> int:
        return self.flash.size

    @property
    def flash_summary(self) -> str:
        method = self.flash_method
        if method.kind == "qemu":
            return f"qemu {self.emulation.qemu_machine}"
        if method.kind == "native":
            return "native"
        return f"pyocd {method.pyocd_target}" if method.pyocd_target else "openocd " + " ".join(method.openocd)

    def to_json(self) -> dict[str, Any]:
        arena = set(self.arena_region_names)
        flash_method = self.flash_method.to_json()
        if self.emulation is not None:
            flash_method["qemu_machine"] = self.emulation.qemu_machine
        return {
            "name": self.name,
            "core": self.core,
            "clock_hz": self.clock_hz,
            "ram_bytes": self.ram_bytes,
            "arena_budget_bytes": self.arena_budget_bytes,
            "flash_bytes": self.flash_bytes,
            "uart": self.uart.to_json(),
            "flash_method": flash_method,
            "emulated": self.emulated,
            "ram_regions": [region.to_json() | {"arena": region.name in arena} for region in self.ram],
        }


# ---------------------------------------------------------------- finding boards


def _root() -> Traversable:
    return resources.files(__name__)


def board_names() -> list[str]:
    """The folders that hold a board.toml, sorted."""
    return sorted(entry.name for entry in _root().iterdir()
                  if entry.is_dir() and entry.joinpath(BOARD_FILE).is_file())


def load_board(name: str) -> Board:
    """The board called NAME (its folder name under targets/)."""
    names = board_names()
    if name not in names:
        raise BoardError(f"unknown board {name!r}; known boards: {', '.join(names)}")
    board_file = _root().joinpath(name, BOARD_FILE)
    board = parse_board(board_file.read_text(encoding="utf-8"), source=str(board_file))
    if board.name != name:
        raise BoardError(f"{board_file}: name = {board.name!r} but the folder is {name!r}; they must match")
    return board


def _sort_key(board: Board) -> tuple[int, str]:
    return (FLASH_KINDS.index(board.flash_method.kind), board.name)


def all_boards() -> list[Board]:
    """Every board: real boards, then emulated ones, then the host."""
    return sorted((load_board(name) for name in board_names()), key=_sort_key)


def load_board_file(path: str | Path) -> Board:
    """A board from any board.toml path (a new board, or a test's file)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise BoardError(f"{path}: cannot read: {exc.strerror or exc}") from None
    return parse_board(text, source=str(path))


# ---------------------------------------------------------------- parsing and validation


class _Table:
    """A TOML table read with type checks; every error names the file and the key."""

    def __init__(self, data: dict[str, Any], source: str, where: str):
        self.data, self.source, self.where = data, source, where

    def fail(self, message: str) -> BoardError:
        return BoardError(f"{self.source}: {message}")

    def _key(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key

    def get(self, key: str, kind: type, default: Any = ..., what: str = "") -> Any:
        if key not in self.data:
            if default is ...:
                raise self.fail(f"missing key {self._key(key)!r}" + (f" ({what})" if what else ""))
            return default
        value = self.data[key]
        # bool is an int in Python: never accept one for the other.
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise self.fail(f"{self._key(key)} must be {_type_name(kind)}, got {_type_name(type(value))} "
                            f"{value!r}")
        return value

    def text(self, key: str, default: Any = ...) -> str:
        return self.get(key, str, default)

    def integer(self, key: str, minimum: int = 0, default: Any = ...) -> int:
        value = self.get(key, int, default)
        if value is not None and value < minimum:
            raise self.fail(f"{self._key(key)} must be >= {minimum}, got {value}")
        return value

    def strings(self, key: str, default: Any = ...) -> tuple[str, ...]:
        values = self.get(key, list, default)
        if any(not isinstance(v, str) for v in values):
            raise self.fail(f"{self._key(key)} must be a list of strings, got {values!r}")
        return tuple(values)

    def table(self, key: str, optional: bool = False) -> _Table | None:
        value = self.get(key, dict, None if optional else ...)
        return None if value is None else _Table(value, self.source, self._key(key))

    def tables(self, key: str) -> list[_Table]:
        values = self.get(key, list)
        if not values or any(not isinstance(v, dict) for v in values):
            raise self.fail(f"{self._key(key)} must be one or more [[{self._key(key)}]] tables")
        return [_Table(v, self.source, f"{self._key(key)}[{k}]") for k, v in enumerate(values)]

    def only(self, *allowed: str) -> None:
        """Refuse keys the schema does not have: a misspelt key must not be silently ignored."""
        unknown = sorted(set(self.data) - set(allowed))
        if unknown:
            raise self.fail(f"unknown key(s) {', '.join(map(repr, unknown))} in "
                            f"{f'[{self.where}]' if self.where else 'the top level'}; "
                            f"allowed: {', '.join(allowed)}")


def _type_name(kind: type) -> str:
    return {str: "a string", int: "an integer", bool: "true/false", list: "a list", dict: "a table"}.get(
        kind, kind.__name__)


def parse_board(text: str, source: str = "<board.toml>") -> Board:
    """Parse and validate the text of a board.toml; errors name SOURCE."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise BoardError(f"{source}: not valid TOML: {exc}") from None
    top = _Table(data, source, "")
    top.only("name", "description", "core", "clock_hz", "arch", "ram", "arena", "flash", "uart",
             "flash_method", "emulation", "firmware")
    ram = tuple(_region(t) for t in top.tables("ram"))
    _check_unique(top, [r.name for r in ram], "ram region")
    method = _flash_method(top.table("flash_method"))
    emulation_table = top.table("emulation", optional=True)
    emulation = _emulation(emulation_table) if emulation_table else None
    if (method.kind == "qemu") != (emulation is not None):
        raise top.fail("flash_method.kind = 'qemu' and an [emulation] table go together")
    arch = top.table("arch")
    arch.only("cflags", "dsp")
    arena = top.table("arena")
    arena.only("regions", "reserve_bytes", "why")
    board = Board(
        name=top.text("name"),
        description=top.text("description"),
        core=top.text("core"),
        clock_hz=top.integer("clock_hz"),
        cflags=arch.strings("cflags"),
        dsp=arch.get("dsp", bool),
        ram=ram,
        arena_region_names=arena.strings("regions"),
        arena_reserve_bytes=arena.integer("reserve_bytes"),
        arena_why=arena.text("why"),
        flash=_flash(top.table("flash")),
        uart=_uart(top.table("uart")),
        flash_method=method,
        emulation=emulation,
        source=source,
    )
    if board.clock_hz == 0 and method.kind != "native":
        raise top.fail("clock_hz must be > 0 (only the native host has no clock)")
    _check_arena(board, arena)
    firmware_table = top.table("firmware", optional=method.kind == "native")
    if firmware_table is not None:
        board = replace(board, firmware=_firmware(firmware_table))
        _check_firmware(board, firmware_table)
    return board


def _region(t: _Table) -> MemoryRegion:
    t.only("name", "origin", "size", "note")
    return MemoryRegion(t.text("name"), t.integer("origin"), t.integer("size", minimum=1), t.text("note", ""))


def _flash(t: _Table) -> MemoryRegion:
    t.only("origin", "size")
    return MemoryRegion("flash", t.integer("origin"), t.integer("size", minimum=1))


def _uart(t: _Table) -> Uart:
    t.only("peripheral", "connection", "baud", "tx", "rx", "address", "irq")
    return Uart(t.text("peripheral"), t.text("connection"), t.integer("baud", minimum=1),
                t.text("tx", ""), t.text("rx", ""), t.integer("address", default=None),
                t.integer("irq", default=None))


def _firmware(t: _Table) -> Firmware:
    t.only("core_clock_hz", "clock_source", "stack_bytes", "irq_count", "data_regions", "stack_regions",
           "boot2_bytes")
    return Firmware(core_clock_hz=t.integer("core_clock_hz", minimum=1), clock_source=t.text("clock_source"),
                    stack_bytes=t.integer("stack_bytes", minimum=1024), irq_count=t.integer("irq_count", minimum=1),
                    data_region_names=t.strings("data_regions", ()), stack_region_names=t.strings("stack_regions", ()),
                    boot2_bytes=t.integer("boot2_bytes", default=0))


def _flash_method(t: _Table) -> FlashMethod:
    t.only("kind", "probe", "pyocd_target", "pyocd_pack", "openocd")
    method = FlashMethod(t.text("kind"), t.text("probe", ""), t.text("pyocd_target", ""),
                         t.get("pyocd_pack", bool, False), t.strings("openocd", ()))
    if method.kind not in FLASH_KINDS:
        raise t.fail(f"flash_method.kind must be one of {', '.join(FLASH_KINDS)}, got {method.kind!r}")
    if method.kind == "probe" and not (method.pyocd_target or method.openocd):
        raise t.fail("flash_method.kind = 'probe' needs pyocd_target and/or openocd")
    return method


def _emulation(t: _Table) -> Emulation:
    t.only("qemu_machine", "emulates", "notes", "memory")
    return Emulation(t.text("qemu_machine"), t.text("emulates"),
                     tuple(_region(m) for m in t.tables("memory")), t.text("notes", ""))


def _check_unique(t: _Table, names: list[str], what: str) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise t.fail(f"two {what}s are called {name!r}")
        seen.add(name)


def _check_arena(board: Board, t: _Table) -> None:
    """The arena is one contiguous range made of listed RAM regions, larger than its reserve."""
    known = {region.name for region in board.ram}
    missing = [name for name in board.arena_region_names if name not in known]
    if not board.arena_region_names or missing:
        raise t.fail(f"arena.regions must name [[ram]] regions ({', '.join(sorted(known))}); "
                     f"unknown: {', '.join(missing) or '(empty list)'}")
    regions = board.arena_regions
    for before, after in itertools.pairwise(regions):
        if before.end != after.origin:
            raise t.fail(f"arena.regions must be contiguous and in address order: {before.name} ends at "
                         f"{before.end:#x} but {after.name} starts at {after.origin:#x}")
    total = sum(region.size for region in regions)
    if board.arena_reserve_bytes >= total:
        raise t.fail(f"arena.reserve_bytes ({board.arena_reserve_bytes}) leaves nothing of the arena's "
                     f"{total} bytes")


def _check_firmware(board: Board, t: _Table) -> None:
    """Clock, interrupts and stack are consistent; the firmware's RAM is a range of its own or the arena's."""
    fw = board.firmware
    if fw.core_clock_hz > board.clock_hz:
        raise t.fail(f"firmware.core_clock_hz ({fw.core_clock_hz}) is above the chip's clock_hz ({board.clock_hz})")
    if fw.stack_bytes % 8:
        raise t.fail(f"firmware.stack_bytes ({fw.stack_bytes}) must be a multiple of 8 (AAPCS stack alignment)")
    if fw.boot2_bytes % 4 or fw.boot2_bytes < 0:
        raise t.fail(f"firmware.boot2_bytes ({fw.boot2_bytes}) must be a multiple of 4")
    irq = board.uart.irq
    if irq is None or irq >= fw.irq_count:
        raise t.fail(f"uart.irq must be the receiver's interrupt number, below firmware.irq_count "
                     f"({fw.irq_count}); got {irq}")
    arena = board.arena_regions
    for key, names in (("data_regions", fw.data_region_names), ("stack_regions", fw.stack_region_names)):
        _check_range(t, f"firmware.{key}", names, board)
    data, stack = board.data_regions, board.stack_regions
    if data != arena and set(data) & set(arena):
        raise t.fail("firmware.data_regions must be the arena's regions or apart from them, not overlap them")
    if stack not in (data, arena) and set(stack) & (set(data) | set(arena)):
        raise t.fail("firmware.stack_regions must be the data's or the arena's regions, or apart from both")
    if stack == arena:
        if fw.stack_bytes >= board.arena_reserve_bytes:
            raise t.fail(f"firmware.stack_bytes ({fw.stack_bytes}) must leave room in arena.reserve_bytes "
                         f"({board.arena_reserve_bytes}) for .data and .bss")
    elif fw.stack_bytes > sum(r.size for r in stack):
        raise t.fail(f"firmware.stack_bytes ({fw.stack_bytes}) does not fit firmware.stack_regions")


def _check_range(t: _Table, key: str, names: tuple[str, ...], board: Board) -> None:
    known = {region.name for region in board.ram}
    missing = [name for name in names if name not in known]
    if missing:
        raise t.fail(f"{key} must name [[ram]] regions ({', '.join(sorted(known))}); unknown: {', '.join(missing)}")
    for before, after in itertools.pairwise(board._regions(names)):
        if before.end != after.origin:
            raise t.fail(f"{key} must be contiguous and in address order: {before.name} ends at {before.end:#x} "
                         f"but {after.name} starts at {after.origin:#x}")


# ---------------------------------------------------------------- text for the CLI


def _size(n: int) -> str:
    for unit, scale in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if n >= scale and n % scale == 0:
            return f"{n // scale} {unit}"
    return f"{n} B"


def format_boards(boards: list[Board]) -> str:
    """One line per board: the table `edgeml targets` prints."""
    header = ("board", "core", "clock", "RAM", "arena", "flash", "UART", "flashed with")
    rows = [header]
    for b in boards:
        clock = f"{b.clock_hz / 1e6:g} MHz" if b.clock_hz else "-"
        rows.append((b.name, b.core, clock, _size(b.ram_bytes), _size(b.arena_budget_bytes),
                     _size(b.flash_bytes), b.uart.summary(), b.flash_summary))
    widths = [max(len(row[k]) for row in rows) for k in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
