"""The smallest tensor arena with which TensorFlow Lite Micro runs a model, found by search.

TFLM's Python interpreter reports no arena figure, and it can crash the whole process (not raise) when the
arena is too small for some models (LSTM), so every probe runs in a child process. One child tries many
sizes in turn and is only replaced after a crash or a timeout, which counts as a failed probe.

The figure is what the `tflite_micro` Python interpreter needs. Its arena holds more than print_allocations()
reports at the end: while AllocateTensors() plans memory, TFLM takes temporary memory from the free space
(allocation info, scratch-buffer requests, the memory planner's working buffer), and for small models this
outgrows the planned head. The interpreter uses a RecordingMicroAllocator, a little larger than the plain
MicroAllocator firmware uses, whose objects sit in the tail.

    python -m edgeml.references.tflm_arena MODEL.tflite [...]
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import select
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from edgeml.errors import ReferenceError_

MAX_ARENA = 64 * 1024 * 1024
# First margin above the recorded head + tail tried as an upper bound: the temporaries of memory planning
# that outgrow the head take a few hundred bytes.
FIRST_MARGIN = 1024
STARTUP_TIMEOUT = 60.0
LOG_TAIL_CHARS = 2000


@dataclass(frozen=True)
class TflmAllocation:
    """One line of print_allocations(): bytes used with alignment, bytes requested, in how many allocations."""

    used: int
    requested: int
    count: int


@dataclass(frozen=True)
class TflmArena:
    model: str
    # The smallest arena (bytes, exact to the byte) with which TFLM allocates and invokes the model.
    arena_bytes: int
    # What TFLM's RecordingMicroAllocator reports at that size (None if print_allocations() said nothing).
    recorded_bytes: int | None  # head + tail
    head_bytes: int | None  # non-persistent: activations and kernels' scratch buffers, as planned
    tail_bytes: int | None  # persistent: tensor structs, op data, quantization data
    allocations: dict[str, TflmAllocation] = field(default_factory=dict)  # the tail, by kind
    print_allocations: str = ""  # print_allocations()' lines at that size
    probes: int = 0
    crashes: int = 0
    seconds: float = 0.0

    @property
    def unrecorded_bytes(self) -> int | None:
        """Arena bytes beyond head + tail: temporary memory AllocateTensors() needed beyond the planned head."""
        return None if self.recorded_bytes is None else self.arena_bytes - self.recorded_bytes


@dataclass(frozen=True)
class _Probe:
    ok: bool
    stage: str  # "run", "allocate", "invoke", "crash" or "timeout"
    message: str = ""
    log: str = ""


def tflm_smallest_arena(model: bytes | str | os.PathLike, *, lo: int = 0, hi: int = MAX_ARENA,
                        timeout: float = 30.0, name: str | None = None) -> TflmArena:
    """Search the smallest arena with which TFLM allocates the model and invokes it on a random input.

    lo: a size known to fail (the search stays above it); hi: the largest arena tried; timeout: seconds per
    probe. Raises ReferenceError_ (an EdgemlError) naming the model when TFLM cannot run it even at `hi`.
    """
    start = time.perf_counter()
    data, label = _model_bytes(model, name)
    if not 0 <= lo < hi:
        raise ReferenceError_(f"{label}: the arena search needs 0 <= lo < hi (got lo={lo}, hi={hi})")
    with _ProbeSession(data, label, timeout) as session:
        ceiling = session.probe(hi, invoke=True, allocations=True)
        if not ceiling.ok:
            raise ReferenceError_(f"{label}: TFLite Micro cannot run the model even with a {hi}-byte arena "
                                  f"({_describe(ceiling)})")
        recorded = _parse_allocations(ceiling.log)[0]
        known_fail = _lower_bound(session, lo, recorded)
        known_fail, works = _upper_bound(session, known_fail, hi, recorded)
        smallest = _bisect(session, known_fail, works, invoke=False)
        final = session.probe(smallest, invoke=True, allocations=True)
        if not final.ok:  # allocates but does not invoke: search again, invoking each time
            smallest = _bisect(session, smallest, works, invoke=True)
            final = session.probe(smallest, invoke=True, allocations=True)
        recorded, head, tail, kinds = _parse_allocations(final.log)
        report = "\n".join(line for line in final.log.splitlines() if "RecordingMicroAllocator" in line)
        return TflmArena(label, smallest, recorded, head, tail, kinds, report,
                         session.probes, session.crashes, time.perf_counter() - start)


def tflm_runs_with_arena(model: bytes | str | os.PathLike, arena_bytes: int, *, timeout: float = 30.0) -> bool:
    """Whether TFLM allocates and invokes the model with this arena, checked in a fresh child process."""
    data, label = _model_bytes(model, None)
    with _ProbeSession(data, label, timeout) as session:
        return session.probe(arena_bytes, invoke=True).ok


def _lower_bound(session: _ProbeSession, lo: int, recorded: int | None) -> int:
    """A size that fails: the recorded head + tail must fit in the arena, so one byte less fails (checked)."""
    if recorded is None or recorded - 1 <= lo:
        return lo
    return recorded - 1 if not session.probe(recorded - 1, invoke=False).ok else lo


def _upper_bound(session: _ProbeSession, known_fail: int, hi: int, recorded: int | None) -> tuple[int, int]:
    """(a failing size, a working size): try sizes above the lower bound with a doubling margin."""
    margin = FIRST_MARGIN
    base = max(known_fail, recorded or 0)
    while base + margin < hi:
        size = base + margin
        if session.probe(size, invoke=False).ok:
            return known_fail, size
        known_fail = size
        margin *= 2
    return known_fail, hi


def _bisect(session: _ProbeSession, failing: int, working: int, *, invoke: bool) -> int:
    """The smallest working size in (failing, working], assuming more arena never hurts."""
    while working - failing > 1:
        middle = (failing + working) // 2
        if session.probe(middle, invoke=invoke).ok:
            working = middle
        else:
            failing = middle
    return working


_TOTALS = re.compile(r"Arena allocation (total|head|tail) (\d+) bytes")
_KIND = re.compile(r"'([^']+)' used (\d+) bytes with alignment overhead \(requested (\d+) bytes for (\d+) ")


def _parse_allocations(text: str) -> tuple[int | None, int | None, int | None, dict[str, TflmAllocation]]:
    totals = {key: int(value) for key, value in _TOTALS.findall(text)}
    kinds = {kind: TflmAllocation(int(used), int(requested), int(count))
             for kind, used, requested, count in _KIND.findall(text)}
    return totals.get("total"), totals.get("head"), totals.get("tail"), kinds


def _describe(probe: _Probe) -> str:
    lines = [line for line in probe.log.splitlines() if line.strip()]
    detail = "; ".join(lines[-3:])
    return f"{probe.message}: {detail}" if detail else probe.message


def _model_bytes(model: bytes | str | os.PathLike, name: str | None) -> tuple[bytes, str]:
    if isinstance(model, bytes | bytearray | memoryview):
        return bytes(model), name or "<model bytes>"
    path = Path(model)
    try:
        return path.read_bytes(), name or str(path)
    except OSError as exc:
        raise ReferenceError_(f"{path}: cannot read the model: {exc.strerror}") from None


class _ProbeSession:
    """Drives one child process at a time over pipes; replaces it after a crash or a timeout."""

    def __init__(self, data: bytes, label: str, timeout: float):
        self._tmp = tempfile.TemporaryDirectory(prefix="edgeml-tflm-arena-")
        self._model = Path(self._tmp.name) / "model.tflite"
        self._model.write_bytes(data)
        self._log = Path(self._tmp.name) / "child.log"
        self._label = label
        self._timeout = timeout
        self._child: subprocess.Popen | None = None
        self._pending = b""
        self.probes = 0
        self.crashes = 0

    def __enter__(self) -> _ProbeSession:
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop()
        self._tmp.cleanup()

    def probe(self, size: int, *, invoke: bool, allocations: bool = False) -> _Probe:
        self.probes += 1
        self._ensure_child()
        request = {"size": size, "invoke": invoke, "allocations": allocations}
        try:
            self._child.stdin.write((json.dumps(request) + "\n").encode())
            self._child.stdin.flush()
        except BrokenPipeError:
            return self._lost("crash")
        line = self._read_line(self._timeout)
        if line is None:
            return self._lost("timeout")
        if not line:
            return self._lost("crash")
        reply = json.loads(line)
        return _Probe(reply["ok"], reply["stage"], reply["message"], reply["log"])

    def _ensure_child(self) -> None:
        if self._child is not None:
            return
        self._pending = b""
        with open(self._log, "wb") as log:  # the child's output before it redirects its own fds
            self._child = subprocess.Popen(
                [sys.executable, "-m", "edgeml.references.tflm_arena", "--child", str(self._model), str(self._log)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log)
        ready = self._read_line(max(STARTUP_TIMEOUT, self._timeout))
        if ready != b'"ready"':
            log_text = self._log.read_text(errors="replace")[-LOG_TAIL_CHARS:]
            self._stop()
            raise ReferenceError_(f"{self._label}: the TFLite Micro probe process did not start: {log_text.strip()}")

    def _read_line(self, timeout: float) -> bytes | None:
        """One line from the child (b"" when it died, None on timeout)."""
        deadline = time.monotonic() + timeout
        fd = self._child.stdout.fileno()
        while b"\n" not in self._pending:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
                return None
            chunk = os.read(fd, 65536)
            if not chunk:
                return b""
            self._pending += chunk
        line, self._pending = self._pending.split(b"\n", 1)
        return line

    def _lost(self, stage: str) -> _Probe:
        """The child crashed or hung: a failed probe; the next probe starts a new child."""
        self.crashes += 1
        status = self._stop()
        log = self._log.read_text(errors="replace")[-LOG_TAIL_CHARS:] if self._log.exists() else ""
        if stage == "timeout":
            return _Probe(False, stage, f"TFLite Micro timed out after {self._timeout} s", log)
        how = f"signal {signal.Signals(-status).name}" if status is not None and status < 0 else f"status {status}"
        return _Probe(False, stage, f"TFLite Micro crashed ({how})", log)

    def _stop(self) -> int | None:
        """Ends the child if it still runs; its exit status."""
        child, self._child = self._child, None
        if child is None:
            return None
        if child.poll() is None:
            child.kill()
        status = child.wait()
        for stream in (child.stdin, child.stdout):
            with contextlib.suppress(OSError):  # stdin's flush fails when the child died
                stream.close()
        return status


# ---- the child process ------------------------------------------------------------------------------


def _child_main(model_path: str, log_path: str) -> None:
    """Answer probe requests (one JSON line each) until stdin closes; TFLM's output goes to the log file."""
    import ctypes

    replies = os.fdopen(os.dup(1), "w", buffering=1)
    log_fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(log_fd, 1)  # TFLM prints from C++ straight to the fds, not through Python's sys.stderr
    os.dup2(log_fd, 2)
    libc = ctypes.CDLL(None)
    data = Path(model_path).read_bytes()
    num_inputs = _num_inputs(data)
    replies.write('"ready"\n')
    for line in sys.stdin:
        request = json.loads(line)
        os.ftruncate(log_fd, 0)
        reply = _child_probe(data, num_inputs, request["size"], request["invoke"], request["allocations"])
        libc.fflush(None)
        reply["log"] = Path(log_path).read_text(errors="replace")[-LOG_TAIL_CHARS * 4:]
        replies.write(json.dumps(reply) + "\n")


def _child_probe(data: bytes, num_inputs: int, size: int, invoke: bool, allocations: bool) -> dict:
    from tflite_micro import runtime

    try:
        interpreter = runtime.Interpreter.from_bytes(data, arena_size=size)
    except (RuntimeError, ValueError) as exc:
        return {"ok": False, "stage": "allocate", "message": str(exc)}
    if invoke:
        try:
            for k in range(num_inputs):
                interpreter.set_input(_random_input(interpreter.get_input_details(k), k), k)
            interpreter.invoke()
        except (RuntimeError, ValueError) as exc:
            return {"ok": False, "stage": "invoke", "message": str(exc)}
    if allocations:
        interpreter.print_allocations()
    return {"ok": True, "stage": "run", "message": ""}


def _num_inputs(data: bytes) -> int:
    """Read from the flatbuffer: the binding crashes on an out-of-range input index."""
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema

    model = schema.Model.GetRootAsModel(data, 0)
    return model.Subgraphs(0).InputsLength() if model.SubgraphsLength() else 0


def _random_input(details: dict, seed: int):
    import numpy as np

    rng = np.random.default_rng(seed)
    dtype, shape = np.dtype(details["dtype"]), tuple(int(d) for d in details["shape"])
    if dtype.kind == "f":
        return rng.uniform(-1.0, 1.0, shape).astype(dtype)
    if dtype.kind == "b":
        return rng.integers(0, 2, shape).astype(dtype)
    info = np.iinfo(dtype)
    return rng.integers(info.min, int(info.max) + 1, shape, dtype=dtype)


# ---- command line -----------------------------------------------------------------------------------


def _print_report(path: str) -> None:
    try:
        arena = tflm_smallest_arena(path)
    except ReferenceError_ as exc:
        print(exc)
        return
    print(f"{Path(path).name}: smallest arena {arena.arena_bytes} bytes (recorded {arena.recorded_bytes} = "
          f"head {arena.head_bytes} + tail {arena.tail_bytes}, unrecorded {arena.unrecorded_bytes}); "
          f"{arena.probes} probes, {arena.crashes} crashes, {arena.seconds:.2f} s")
    for kind, allocation in arena.allocations.items():
        print(f"    {kind}: {allocation.used} bytes ({allocation.requested} requested, {allocation.count} allocations)")


def main(argv: list[str]) -> None:
    if argv[:1] == ["--child"]:
        _child_main(argv[1], argv[2])
        return
    for path in argv:
        _print_report(path)


if __name__ == "__main__":
    main(sys.argv[1:])
