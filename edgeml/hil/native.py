"""The host target: the firmware's main loop built with the host gcc and driven over a pseudo-terminal.

    exe = build_host_firmware(generated_model, out_dir)            # gcc, cached by content
    with NativeSession(exe) as session:
        client = session.client(expected_hash=graph.source_hash)
        outputs, result = client.infer(inputs)

The firmware (targets/host/port_host.c) prints "edgeml-host pty /dev/pts/N" as its first stdout line;
the session opens that pty with pyserial (exclusively) and keeps it open. Closing the pty makes the
firmware exit by itself; the session also kills it if it lingers, and (on Linux) the kernel kills it
when this process dies, so no firmware process outlives a run.
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import os
import re
import select
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from edgeml import __version__
from edgeml.codegen.host_build import WARNINGS, host_compiler
from edgeml.codegen.model_c import GeneratedModel
from edgeml.errors import EdgemlError
from edgeml.firmware import INCLUDE_DIR, KERNEL_DIR, SOURCE_DIR
from edgeml.hil.client import DeviceClient, DeviceGoneError, DeviceInfo, close_quietly, open_port

PTY_LINE = re.compile(r"^edgeml-host pty (\S+)\s*$")
SANITIZE_FLAGS = ("-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-fno-omit-frame-pointer")


class NativeBuildError(EdgemlError):
    """The host firmware did not compile."""


class NativeSessionError(EdgemlError):
    """The host firmware did not start or did not announce its pty."""


def _host_port_sources() -> list[Path]:
    from edgeml.codegen.linker import target_sources
    from edgeml.targets import load_board

    return [p for p in target_sources(load_board("host")) if p.suffix == ".c"]


def host_firmware_sources(model: GeneratedModel) -> list[Path]:
    """Runtime, protocol and main loop, the model's kernels, and the pty port (model.c aside)."""
    kernels = [KERNEL_DIR / f"edg_{m}.c" for m in model.kernel_modules]
    return sorted(SOURCE_DIR.glob("*.c")) + kernels + _host_port_sources()


def build_host_firmware(generated_model: GeneratedModel, out_dir: str | Path, sanitize: bool = False) -> Path:
    """Compile the host firmware for GENERATED_MODEL into OUT_DIR; returns the executable.

    sanitize: AddressSanitizer + UndefinedBehaviorSanitizer, any finding aborts the process.
    Rebuilt only when the sources or flags change (a key file beside the executable)."""
    out_dir = Path(out_dir)
    model_dir = out_dir / "model"
    model_dir.mkdir(parents=True, exist_ok=True)
    prefix = generated_model.prefix
    (model_dir / f"{prefix}.c").write_text(generated_model.source)
    (model_dir / f"{prefix}.h").write_text(generated_model.header)
    sources = [model_dir / f"{prefix}.c", *host_firmware_sources(generated_model)]
    flags = ["-std=c99", "-O1" if sanitize else "-O2", "-g", *WARNINGS, f'-DEDGEML_VERSION="{__version__}"',
             f"-DEDG_APP_MODEL={prefix}_model", *(SANITIZE_FLAGS if sanitize else ())]
    includes = [f"-I{model_dir}", f"-I{INCLUDE_DIR}", f"-I{KERNEL_DIR}"]
    exe = out_dir / ("firmware-sanitized" if sanitize else "firmware")
    headers = sorted(INCLUDE_DIR.glob("*.h")) + sorted(KERNEL_DIR.glob("*.h"))
    key = hashlib.sha256(" ".join(flags).encode())
    for path in sources + headers:
        key.update(path.name.encode() + b"\0" + path.read_bytes())
    key_file = exe.with_name(exe.name + ".key")
    if exe.exists() and key_file.exists() and key_file.read_text() == key.hexdigest():
        return exe
    tmp = exe.with_name(f".{exe.name}.{os.getpid()}.tmp")
    cmd = [host_compiler(), *flags, *includes, *map(str, sources), "-lm", "-o", str(tmp)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        tmp.unlink(missing_ok=True)
        raise NativeBuildError(f"building the host firmware for {prefix} failed:\n{proc.stderr.strip()[-4000:]}\n"
                               f"command: {' '.join(cmd)}")
    os.replace(tmp, exe)
    key_file.write_text(key.hexdigest())
    return exe


def _death_signal():
    """For the child between fork and exec: SIGKILL it when this process dies (Linux PR_SET_PDEATHSIG)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    return lambda: prctl(1, signal.SIGKILL)


def describe_exit(code: int) -> str:
    if code < 0:
        with contextlib.suppress(ValueError):
            return f"signal {signal.Signals(-code).name}"
        return f"signal {-code}"
    return f"exit code {code}"


class NativeSession:
    """One host firmware process and its pty, opened with pyserial."""

    def __init__(self, executable: str | Path, *, timeout: float = 1.0, start_timeout: float = 10.0,
                 env: dict[str, str] | None = None):
        self.executable = Path(executable)
        self.timeout = timeout
        self.start_timeout = start_timeout
        self.env = env
        self.process: subprocess.Popen | None = None
        self.pid: int | None = None  # kept after close, to check that the process is gone
        self.pty: str | None = None
        self.returncode: int | None = None
        self.info: DeviceInfo | None = None  # the firmware's IDENTIFY answer, from the start handshake
        self._serial = None
        self._stderr = None

    def __enter__(self) -> NativeSession:
        self.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def start(self) -> None:
        if not self.executable.is_file():
            raise NativeSessionError(f"{self.executable}: no such host firmware; build it with build_host_firmware")
        # A file, not a pipe: a chatty sanitizer can never block the firmware; read after it ends too.
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 (lives as long as the session)
        env = None if self.env is None else {**os.environ, **self.env}
        self.process = subprocess.Popen([str(self.executable)], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                        stderr=self._stderr, env=env, preexec_fn=_death_signal())
        self.pid = self.process.pid
        try:
            line = self._first_line()
            match = PTY_LINE.match(line)
            if match is None:
                raise NativeSessionError(f"{self.executable.name} printed {line!r} instead of "
                                         f"'edgeml-host pty <path>':\n{self.stderr_text()}")
            self.pty = match.group(1)
            self._serial = open_port(self.pty, timeout=self.timeout)
            # A handshake: the firmware has now seen the host (see port_host.c), and answers.
            self.info = self.client().identify()
        except BaseException:
            self.close()
            raise

    def _first_line(self) -> str:
        assert self.process is not None and self.process.stdout is not None
        fd = self.process.stdout.fileno()
        deadline = time.monotonic() + self.start_timeout
        data = b""
        while b"\n" not in data:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise NativeSessionError(f"{self.executable.name} did not announce its pty within "
                                         f"{self.start_timeout:g} s (got {data!r}):\n{self.stderr_text()}")
            ready, _, _ = select.select([fd], [], [], remaining)
            if ready:
                chunk = os.read(fd, 256)
                if not chunk:
                    self.process.wait(timeout=5)
                    raise NativeSessionError(f"{self.executable.name} exited with "
                                             f"{describe_exit(self.process.returncode)} before announcing its "
                                             f"pty:\n{self.stderr_text() or '(no output)'}")
                data += chunk
        return data.split(b"\n", 1)[0].decode(errors="replace")

    @property
    def serial(self):
        if self._serial is None:
            raise NativeSessionError("the native session is not started (use it as a context manager)")
        return self._serial

    def client(self, **kwargs) -> DeviceClient:
        """A DeviceClient on this session's pty that names the process when it dies."""
        kwargs.setdefault("timeout", self.timeout)
        return DeviceClient(self.serial, name=f"{self.pty} (host firmware, pid {self.pid})",
                            check_alive=self.raise_if_dead, **kwargs)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stderr_text(self) -> str:
        if self._stderr is None:
            return ""
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace").strip()

    def _pty_hung_up(self) -> bool:
        """The firmware's end of the pty is closed (it is exiting, even if not reaped yet)."""
        if self._serial is None:
            return False
        poller = select.poll()
        poller.register(self._serial.fileno(), select.POLLHUP)
        return any(mask & select.POLLHUP for _, mask in poller.poll(0))

    def raise_if_dead(self) -> None:
        """DeviceGoneError naming how the firmware process ended, if it has."""
        if self.process is not None and self.process.poll() is None and self._pty_hung_up():
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=2.0)
        if self.process is not None and self.process.poll() is not None:
            tail = self.stderr_text()[-3000:]
            raise DeviceGoneError(f"the host firmware {self.executable.name} (pid {self.process.pid}) on {self.pty} "
                                  f"ended with {describe_exit(self.process.returncode)}"
                                  + (f":\n{tail}" if tail else " and printed nothing")
                                  + "\nrebuild it (with sanitize=True to find memory errors) and start a new session")

    def close(self, grace: float = 5.0) -> int | None:
        """Close the pty (the firmware then exits by itself), kill it if it lingers; its exit code."""
        if self._serial is not None:
            close_quietly(self._serial)
            self._serial = None
        process, self.process = self.process, None
        if process is not None:
            try:
                process.wait(timeout=grace if self.pty else 0.1)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
            if process.stdout is not None:
                process.stdout.close()
            self.returncode = process.returncode
        return self.returncode
