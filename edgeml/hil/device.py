"""One way to reach the firmware of a built project, whatever runs it.

    with open_device(board, elf, port=None, expected_hash=info.model_hash) as device:
        outputs, result = device.client.infer(inputs)

- the native host target: the host executable, over its pty (edgeml/hil/native.py);
- an emulated board without --port: QEMU started on the ELF (edgeml/hil/qemu.py);
- a URL port (``socket://127.0.0.1:4321``, as printed by `edgeml flash` for an emulated board):
  that already running QEMU, or anything else pyserial reaches by URL;
- a real board: its serial port, opened exclusively (flash it first: edgeml/hil/flash.py).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from edgeml.codegen.linker import is_native
from edgeml.errors import EdgemlError
from edgeml.hil.client import DeviceClient, PortError, close_quietly, open_port
from edgeml.targets import Board

# Seconds an INVOKE may take under QEMU: large models run some 10^8 emulated instructions, which
# QEMU with -icount executes at tens of millions per second on a loaded machine.
EMULATED_INVOKE_TIMEOUT_S = 300.0
# Requests other than INVOKE, under QEMU: a busy CI machine can stall the emulator for a while.
EMULATED_TIMEOUT_S = 5.0
# After a failed read or write, how long QEMU gets to be seen exiting, so that its death is what we report.
FAILURE_GRACE_S = 0.5


@dataclass
class Device:
    client: DeviceClient
    description: str  # "QEMU mps2-an386 (pid 123)", "/dev/ttyACM0", ...
    emulated: bool


def is_url(port: str) -> bool:
    return "://" in port


def open_url(url: str, timeout: float):
    """A pyserial URL (socket://host:port, rfc2217://...): a clear error when nothing listens there."""
    import serial

    try:
        return serial.serial_for_url(url, timeout=timeout, write_timeout=max(timeout, 5.0))
    except (serial.SerialException, ValueError) as exc:
        raise PortError(f"cannot open {url}: {exc}; for an emulated board, start it with `edgeml flash OUTDIR` "
                        "and pass the socket:// address it prints") from None


@contextlib.contextmanager
def open_device(board: Board, image: Path, port: str | None = None, expected_hash: str | None = None,
                timeout: float | None = None) -> Iterator[Device]:
    """The running firmware of IMAGE on BOARD, identified (and checked against EXPECTED_HASH)."""
    if is_native(board):
        from edgeml.hil.native import NativeSession

        with NativeSession(image) as session:
            client = session.client(expected_hash=expected_hash)
            client.identify()
            yield Device(client, f"{image.name} (host, pid {session.pid}, {session.pty})", emulated=False)
        return
    if port is None and board.emulated:
        from edgeml.hil.qemu import QemuSession

        with QemuSession.for_board(board, image) as qemu:
            client = _client(qemu.serial, f"QEMU {qemu.machine} (pid {qemu.pid})", expected_hash, timeout,
                             emulated=True,
                             check_alive=lambda: qemu.raise_if_dead(grace=FAILURE_GRACE_S))
            yield Device(client, client.name, emulated=True)
        return
    if port is None:
        raise EdgemlError(f"{board.name} is a real board: pass its serial port with --port (e.g. /dev/ttyACM0)")
    emulated = board.emulated
    link = open_url(port, timeout or 1.0) if is_url(port) else open_port(port, timeout=timeout or 1.0)
    try:
        client = _client(link, port, expected_hash, timeout, emulated=emulated)
        yield Device(client, port, emulated=emulated)
    finally:
        close_quietly(link)


def _client(link, name: str, expected_hash: str | None, timeout: float | None, *, emulated: bool,
            check_alive: Callable[[], None] | None = None) -> DeviceClient:
    kwargs = {"timeout": timeout or (EMULATED_TIMEOUT_S if emulated else 1.0)}
    if emulated:
        kwargs["invoke_timeout"] = EMULATED_INVOKE_TIMEOUT_S
    client = DeviceClient(link, name=name, expected_hash=expected_hash, check_alive=check_alive, **kwargs)
    client.identify()
    return client
