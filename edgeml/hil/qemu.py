"""Run a firmware ELF on an emulated board: QEMU with its first serial port on a local TCP socket.

    with QemuSession.for_board(load_board("qemu-mps2-an386"), "build/firmware.elf") as qemu:
        qemu.serial.write(b"...")          # a pyserial object (socket://)
        reply = qemu.read_exact(4)         # raises QemuError naming QEMU's stderr if QEMU died

The command is ``qemu-system-arm -M <machine> -nographic -monitor none -icount shift=0 -no-reboot
-serial tcp:127.0.0.1:<port>,server=on,wait=on,nodelay=on -kernel <elf>``:

- ``-icount shift=0``: the emulated clock counts instructions (1 ns each), so SysTick tick counts are
  deterministic (see targets/common/edg_cortex_m_port.c).
- ``wait=on``: the guest does not start before we are connected, so its first bytes are not lost
  (pyserial on a pty drops what arrived before it opened). ``nodelay=on``: without it each reply
  waits about 44 ms for Nagle's algorithm.
- The port is picked free just before the start; we connect only once QEMU has said, on stderr,
  that it is waiting on that very port, so we talk to the QEMU we started (a port taken in between
  makes QEMU fail to bind, and we retry on another).
- ``-no-reboot``: a guest that resets itself makes QEMU exit, which we see, instead of restarting.

QEMU is always killed when the session ends, and (on Linux) when this process dies.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from edgeml.errors import EdgemlError

QEMU = "qemu-system-arm"
QEMU_PACKAGE = "qemu-system-arm"
WAITING = re.compile(r"waiting for connection on: disconnected:tcp:127\.0\.0\.1:(\d+)")
BIND_FAILED = re.compile(r"Failed to bind socket|Address already in use", re.IGNORECASE)


class QemuError(EdgemlError):
    """QEMU is missing, refused to start, died, or the guest did not answer in time."""


def find_qemu() -> str:
    path = shutil.which(QEMU)
    if path is None:
        raise QemuError(f"`{QEMU}` not found on PATH: install the Debian package {QEMU_PACKAGE} "
                        f"(apt-get install --no-install-recommends {QEMU_PACKAGE})")
    return path


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _death_signal():
    """A function for the child, between fork and exec: SIGKILL it when we die (Linux prctl
    PR_SET_PDEATHSIG), so that no QEMU outlives a killed test run. libc is loaded here, in the parent."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    return lambda: prctl(1, signal.SIGKILL)


class QemuSession:
    """One QEMU process running ELF on MACHINE, its first serial port connected over TCP."""

    def __init__(self, elf: str | Path, machine: str, *, timeout: float = 10.0, start_timeout: float = 10.0,
                 extra_args: tuple[str, ...] = (), listen_port: int | None = None):
        """listen_port: the local TCP port of the guest's serial line; None picks a free one."""
        self.elf = Path(elf)
        self.machine = machine
        self.timeout = timeout  # seconds a read may wait for the guest
        self.start_timeout = start_timeout
        self.extra_args = tuple(extra_args)
        self.listen_port = listen_port
        self.port: int | None = None
        self.command: list[str] = []
        self.process: subprocess.Popen | None = None
        self._serial = None
        self._stderr: list[str] = []
        self._listening = threading.Event()
        self._lock = threading.Lock()
        self._reader: threading.Thread | None = None

    @classmethod
    def for_board(cls, board, elf: str | Path, **kwargs) -> QemuSession:
        """A session for an emulated board (its board.toml [emulation] qemu_machine)."""
        if board.emulation is None:
            raise QemuError(f"{board.name} is not an emulated board: flash it and use its serial port instead")
        return cls(elf, board.emulation.qemu_machine, **kwargs)

    # ---------------------------------------------------------------- life cycle

    def __enter__(self) -> QemuSession:
        self.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def start(self) -> None:
        qemu = find_qemu()
        if not self.elf.is_file():
            raise QemuError(f"{self.elf}: no such firmware image")
        try:
            for attempt in range(3):
                if self._launch(qemu):
                    break
                if self.listen_port is not None:
                    raise QemuError(f"TCP port {self.listen_port} is busy on 127.0.0.1: another program (or "
                                    "another QEMU) listens there; pick another port or stop that program")
                if attempt == 2:
                    raise QemuError(f"{QEMU} could not bind a local TCP port three times:\n{self.stderr_text()}")
            self._connect()
        except BaseException:
            self.close()
            raise

    def _launch(self, qemu: str) -> bool:
        """Start QEMU on a free port; False if the port was taken before QEMU could bind it."""
        self.port = self.listen_port or _free_port()
        self._stderr = []
        self._listening.clear()
        self.command = [qemu, "-M", self.machine, "-nographic", "-monitor", "none", "-icount", "shift=0",
                        "-no-reboot", "-serial", f"tcp:127.0.0.1:{self.port},server=on,wait=on,nodelay=on",
                        *self.extra_args, "-kernel", str(self.elf)]
        self.process = subprocess.Popen(self.command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, preexec_fn=_death_signal())
        self._reader = threading.Thread(target=self._collect_output, args=(self.process,), daemon=True)
        self._reader.start()
        deadline = time.monotonic() + self.start_timeout
        while not self._listening.wait(0.02):
            if self.process.poll() is not None:
                self.process.wait()
                if BIND_FAILED.search(self.stderr_text()):
                    return False
                raise QemuError(f"{QEMU} -M {self.machine} exited with code {self.process.returncode} before the "
                                f"guest started:\n{self.stderr_text() or '(no output)'}\n"
                                f"command: {' '.join(self.command)}")
            if time.monotonic() > deadline:
                raise QemuError(f"{QEMU} did not open its serial port within {self.start_timeout:g} s:\n"
                                f"{self.stderr_text() or '(no output)'}\ncommand: {' '.join(self.command)}")
        return True

    def _collect_output(self, process: subprocess.Popen) -> None:
        """Read QEMU's stdout+stderr for ever (a full pipe would stall QEMU); note when it listens."""
        for raw in iter(process.stdout.readline, b""):
            line = raw.decode(errors="replace").rstrip()
            with self._lock:
                self._stderr.append(line)
            match = WAITING.search(line)
            if match and int(match.group(1)) == self.port:
                self._listening.set()

    def _connect(self) -> None:
        import serial  # pyserial: a dependency of edgeml, imported where it is needed

        url = self.url
        deadline = time.monotonic() + self.start_timeout
        while True:
            try:
                self._serial = serial.serial_for_url(url, timeout=self.timeout, write_timeout=self.timeout)
                return
            except serial.SerialException as exc:
                self.raise_if_dead()
                if time.monotonic() > deadline:
                    raise QemuError(f"cannot connect to {QEMU}'s serial port {url}: {exc}") from None
                time.sleep(0.05)

    def close(self) -> None:
        """Close the serial port and kill QEMU (idempotent)."""
        if self._serial is not None:
            with contextlib.suppress(Exception):
                self._serial.close()
            self._serial = None
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.kill()
        if process is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=5)
            if self._reader is not None:
                self._reader.join(timeout=2)  # it ends at the pipe's end of file
            if process.stdout is not None:
                process.stdout.close()

    def detach(self) -> None:
        """Close our connection but keep QEMU running: its serial server accepts the next client
        (e.g. `edgeml verify --port socket://127.0.0.1:PORT`). The guest's bytes meanwhile are dropped."""
        if self._serial is not None:
            with contextlib.suppress(Exception):
                self._serial.close()
            self._serial = None

    @property
    def url(self) -> str:
        return f"socket://127.0.0.1:{self.port}"

    # ---------------------------------------------------------------- talking to the guest

    @property
    def serial(self):
        """The pyserial object connected to the guest's first UART (timeouts: self.timeout)."""
        if self._serial is None:
            raise QemuError("the QEMU session is not started (use it as a context manager)")
        return self._serial

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stderr_text(self) -> str:
        """Everything QEMU printed so far (stdout and stderr)."""
        with self._lock:
            return "\n".join(self._stderr)

    def raise_if_dead(self, grace: float = 0.0) -> None:
        """A clear error, with QEMU's own output, if QEMU is no longer running. grace: seconds to let a
        dying QEMU be reaped (after a failed socket operation the OS may report the reset first)."""
        if grace and self.process is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=grace)
        if self.process is not None and self.process.poll() is not None:
            raise QemuError(f"{QEMU} -M {self.machine} ({self.elf.name}) exited with code {self.process.returncode}:"
                            f"\n{self.stderr_text() or '(no output)'}")

    def _serial_failed(self, what: str, exc: Exception) -> QemuError:
        """The error for a failed socket operation: usually QEMU died, which the OS may report first."""
        self.raise_if_dead(grace=1.0)
        return QemuError(f"{what} the guest's serial port failed ({exc}); QEMU is still running:\n"
                         f"{self.stderr_text() or '(no output)'}")

    def write(self, data: bytes) -> None:
        self.raise_if_dead()
        try:
            self.serial.write(data)
        except Exception as exc:
            raise self._serial_failed("writing to", exc) from None

    def read_exact(self, n: int, timeout: float | None = None) -> bytes:
        """N bytes from the guest; QemuError if QEMU dies or they do not come within TIMEOUT seconds."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        chunks, got = [], 0
        while got < n:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.raise_if_dead()
                received = b"".join(chunks)
                raise QemuError(f"the guest on {self.machine} sent {got} of {n} bytes in "
                                f"{self.timeout if timeout is None else timeout:g} s (received {received[:64]!r}); "
                                f"QEMU is still running:\n{self.stderr_text() or '(no output)'}")
            self.serial.timeout = min(remaining, 0.25)
            try:
                chunk = self.serial.read(n - got)
            except Exception as exc:
                raise self._serial_failed("reading", exc) from None
            if not chunk:
                self.raise_if_dead()
                continue
            chunks.append(chunk)
            got += len(chunk)
        self.serial.timeout = self.timeout
        return b"".join(chunks)

    def cpu_seconds(self) -> float:
        """CPU time QEMU has used so far (user + system), from /proc: shows whether an idle guest sleeps."""
        if self.process is None:
            return 0.0
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
