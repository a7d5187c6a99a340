"""The firmware main loop and serial protocol, built natively and driven over a pty (edgeml/hil/native.py).

- outputs and per-op trace CRCs equal the numba runtime's, for both numerics;
- the device side of the protocol: errors for damaged, oversized, unknown and out-of-range requests,
  duplicate INVOKE deliveries answered without running again (the plans run ops in place);
- fault injection on the host side of the link (FaultySerial: flipped bits, dropped, truncated,
  duplicated and inserted bytes, either direction, seeded): every inference ends in the right outputs
  or a clear LinkError, never a wrong output and never a hang;
- a device running another model is refused; a firmware process killed mid-run is a clear error;
  a nonexistent or busy port is a clear error; no process is left behind;
- the firmware runs clean under AddressSanitizer + UndefinedBehaviorSanitizer.
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import signal
import struct
import time
import zlib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from conftest import zoo_path

from edgeml.api import load
from edgeml.codegen.model_c import generate
from edgeml.compare import random_inputs
from edgeml.hil.client import (
    DeviceClient,
    DeviceGoneError,
    LinkError,
    ModelMismatchError,
    PortBusyError,
    PortNotFoundError,
    open_port,
)
from edgeml.hil.native import NativeSession, build_host_firmware
from edgeml.hil.protocol import SYNC, BadFrame, Cmd, ErrorCode, Frame, FrameDecoder, encode_frame
from edgeml.ir.graph import Graph
from edgeml.plan.memory import plan_memory
from edgeml.runtime.executor import Runner
from edgeml.runtime.program import prepare_program

pytestmark = [pytest.mark.zoo, pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc not installed")]

HELLO = "tflm_examples/hello_world_int8.tflite"  # FULLY_CONNECTED x3; op 1 overwrites the input in place
ADD = "tflm_integration_tests/add1.tflite"  # int16 ADD in place over input 0; 4608-byte tensors (5 chunks)
FAULT_KINDS = ("flip", "drop", "truncate", "duplicate", "insert")
FAST = {"timeout": 0.15, "invoke_timeout": 0.3, "frame_gap": 0.03, "retries": 4}


@dataclass
class Built:
    graph: Graph
    runner: Runner
    exe: Path


_BUILDS: dict[tuple[str, str, bool], Built] = {}


@pytest.fixture(scope="module")
def build(tmp_path_factory):
    def get(model: str, numerics: str = "tflite", sanitize: bool = False) -> Built:
        key = (model, numerics, sanitize)
        if key not in _BUILDS:
            graph = load(zoo_path(model))
            program = prepare_program(graph, numerics)
            plan = plan_memory(graph, numerics=program.numerics)
            out = tmp_path_factory.mktemp(f"{Path(model).stem}-{numerics}")
            exe = build_host_firmware(generate(program, plan, "model"), out, sanitize=sanitize)
            _BUILDS[key] = Built(graph, Runner(program, plan), exe)
        return _BUILDS[key]

    return get


@contextlib.contextmanager
def watchdog(seconds: int):
    """Fail (rather than hang) if the block takes longer than SECONDS."""
    def expired(_signum, _frame):
        raise TimeoutError(f"watchdog: still running after {seconds} s (a hang)")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def assert_exited_cleanly(session: NativeSession) -> None:
    """The firmware left on its own when the pty closed (status 0, not killed) and is gone."""
    assert session.returncode == 0, f"firmware ended with {session.returncode}:\n{session.stderr_text()}"
    with pytest.raises(ProcessLookupError):
        os.kill(session.pid, 0)


@pytest.fixture
def session_of():
    """Start NativeSessions; at the end check each left cleanly (closing the pty made it exit)."""
    sessions: list[NativeSession] = []

    def start(exe: Path, **kwargs) -> NativeSession:
        session = NativeSession(exe, **kwargs)
        session.start()
        sessions.append(session)
        return session

    yield start
    for session in sessions:
        session.close()


# ---------------------------------------------------------------- results against numba


def check_trace(built: Built, inputs, trace) -> None:
    host = built.runner.run(inputs, keep_tensors=True)
    graph = built.graph
    assert trace, "no trace records"
    for record in trace:
        expected = host.tensors[graph.nodes[record.node].outputs[0]]
        assert record.nbytes == expected.nbytes, graph.node_label(record.node)
        assert record.crc == zlib.crc32(expected.tobytes()), f"trace differs at {graph.node_label(record.node)}"


@pytest.mark.parametrize("numerics", ["tflite", "tflm"])
def test_every_hello_world_input_matches_numba(build, session_of, numerics: str) -> None:
    """All 256 int8 inputs: the firmware's outputs equal the numba runtime's, byte for byte."""
    built = build(HELLO, numerics)
    session = session_of(built.exe)
    client = session.client(expected_hash=built.graph.source_hash)
    start = time.perf_counter()
    for value in range(-128, 128):
        x = [np.full((1, 1), value, np.int8)]
        outputs, result = client.infer(x)
        expected = built.runner.run(x).outputs
        assert [o.tobytes() for o in outputs] == [e.tobytes() for e in expected], f"input {value}"
        assert result.op_count == 3 and result.ticks > 0
    elapsed = time.perf_counter() - start
    print(f"hello_world ({numerics}): {256 / elapsed:.0f} inferences/s over the pty, numba comparison included")
    _, traced = client.infer([np.full((1, 1), 17, np.int8)], trace=True)
    check_trace(built, [np.full((1, 1), 17, np.int8)], traced.trace)
    stats = client.stats()
    assert stats.invocations == 257 and stats.tick_hz == 10**9 and stats.last_ticks == traced.ticks
    assert client.counters.retries == 0
    session.close()
    assert_exited_cleanly(session)


def test_identify_describes_the_generated_model(build, session_of) -> None:
    built = build(ADD)
    info = session_of(built.exe).client().identify()
    graph = built.graph
    assert info.model_hash.hex() == graph.source_hash and info.model_name == graph.name
    assert info.target == "host" and info.tick_hz == 10**9 and info.n_ops == 1
    assert info.arena_bytes == built.runner.plan.arena_bytes
    assert [(t.dtype, t.shape, t.nbytes) for t in info.inputs] == \
        [(2, tuple(graph.tensors[t].shape), graph.tensors[t].nbytes) for t in graph.inputs]
    assert [t.shape for t in info.outputs] == [tuple(graph.tensors[t].shape) for t in graph.outputs]


def test_multi_chunk_in_place_model_matches_numba(build, session_of) -> None:
    built = build(ADD)
    client = session_of(built.exe).client()
    for inputs in random_inputs(built.graph, 5, seed=3):
        outputs, _ = client.infer(inputs, trace=True)
        assert [o.tobytes() for o in outputs] == [e.tobytes() for e in built.runner.run(inputs).outputs]
    # In place: running again without rewriting the inputs gives another answer. This is why a failed
    # INVOKE is only retried after rewriting every input.
    client.invoke()
    again = np.frombuffer(client.read_output(0), np.int16)
    assert again.tobytes() != outputs[0].tobytes()


# ---------------------------------------------------------------- the device side, frame by frame


def exchange(port, data: bytes, frames: int = 1, timeout: float = 2.0) -> list[Frame | BadFrame]:
    port.write(data)
    decoder, events = FrameDecoder(), []
    deadline = time.monotonic() + timeout
    while len(events) < frames and time.monotonic() < deadline:
        port.timeout = 0.05
        decoder.feed(port.read(max(1, port.in_waiting)))
        while (event := decoder.next_event()) is not None:
            events.append(event)
    return events


def error_code(event) -> int:
    assert isinstance(event, Frame) and event.cmd == Cmd.ERROR, event
    return event.payload[0]


def test_device_errors_and_resynchronisation(build, session_of) -> None:
    built = build(HELLO)
    port = session_of(built.exe).serial
    identify = encode_frame(Cmd.IDENTIFY, 1)
    assert exchange(port, b"\x00garbage\xed\xed" + identify)[0].cmd == Cmd.IDENTIFY | 0x80
    damaged = bytearray(encode_frame(Cmd.WRITE_INPUT, 2, b"\x00\x00\x00\x00\x00\x05"))
    damaged[7] ^= 0x40
    (event,) = exchange(port, bytes(damaged))
    assert error_code(event) == ErrorCode.BAD_CRC and event.seq == 2
    (event,) = exchange(port, SYNC + bytes([Cmd.WRITE_INPUT, 3]) + struct.pack("<H", 1025))
    assert error_code(event) == ErrorCode.BAD_LENGTH and event.seq == 3
    (event,) = exchange(port, encode_frame(0x42, 4, b"?"))
    assert error_code(event) == ErrorCode.UNKNOWN_CMD and event.seq == 4
    for request, code in [(encode_frame(Cmd.WRITE_INPUT, 5, b"\x00\x00\x00\x00\x00\x01\x02"), ErrorCode.OUT_OF_RANGE),
                          (encode_frame(Cmd.WRITE_INPUT, 6, b"\x01\x00\x00\x00\x00\x01"), ErrorCode.OUT_OF_RANGE),
                          (encode_frame(Cmd.WRITE_INPUT, 7, b"\x00\xff\xff\xff\xff\x01"), ErrorCode.OUT_OF_RANGE),
                          (encode_frame(Cmd.READ_OUTPUT, 8, b"\x00\x00\x00\x00\x00\x02\x00"), ErrorCode.OUT_OF_RANGE),
                          (encode_frame(Cmd.READ_OUTPUT, 9, b"\x00"), ErrorCode.BAD_REQUEST),
                          (encode_frame(Cmd.INVOKE, 10, b""), ErrorCode.BAD_REQUEST),
                          (encode_frame(Cmd.STATS, 11, b"x"), ErrorCode.BAD_REQUEST)]:
        (event,) = exchange(port, request)
        assert error_code(event) == code and event.seq == request[3], request.hex()
    # A header whose length swallows the next request: that request is lost (the CRC fails), and the
    # next one after the host's zero filler is answered.
    assert exchange(port, SYNC + bytes([Cmd.STATS, 12, 40, 0]) + encode_frame(Cmd.STATS, 13), timeout=0.3) == []
    events = exchange(port, bytes(1034) + encode_frame(Cmd.STATS, 14), frames=2)
    assert [(e.cmd, e.seq) for e in events] == [(Cmd.ERROR, 12), (Cmd.STATS | 0x80, 14)]
    assert error_code(events[0]) == ErrorCode.BAD_CRC
    assert struct.unpack("<QIIII", events[1].payload)[4] == 0  # nothing was ever run


def test_duplicate_invoke_is_answered_without_running(build, session_of) -> None:
    built = build(ADD)
    session = session_of(built.exe)
    client = session.client()
    inputs = random_inputs(built.graph, 1, seed=5)[0]
    for k, x in enumerate(inputs):
        client.write_input(k, x)
    invoke = encode_frame(Cmd.INVOKE, 200, b"\x00")
    events = exchange(session.serial, invoke + invoke, frames=2)
    assert [(e.cmd, e.seq) for e in events] == [(Cmd.INVOKE | 0x80, 200)] * 2
    assert events[0].payload == events[1].payload
    assert client.stats().invocations == 1
    assert np.frombuffer(client.read_output(0), np.int16).tobytes() == \
        built.runner.run(inputs).outputs[0].tobytes()


# ---------------------------------------------------------------- fault injection


class FaultySerial:
    """Wraps a serial port; damages what passes with probability RATE per write()/read() chunk."""

    def __init__(self, inner, seed: int, rate: float, kinds=FAULT_KINDS, directions=("write", "read")):
        self.inner = inner
        self.rng = random.Random(seed)
        self.rate = rate
        self.kinds = kinds
        self.directions = directions
        self.injected: Counter = Counter()

    @property
    def timeout(self):
        return self.inner.timeout

    @timeout.setter
    def timeout(self, value) -> None:
        self.inner.timeout = value

    @property
    def in_waiting(self) -> int:
        return self.inner.in_waiting

    def write(self, data: bytes) -> int:
        if "write" in self.directions:
            data = self._maybe_damage(bytes(data), "write")
        if data:
            self.inner.write(data)
        return len(data)

    def read(self, n: int) -> bytes:
        data = self.inner.read(n)
        if data and "read" in self.directions:
            data = self._maybe_damage(data, "read")
        return data

    def _maybe_damage(self, data: bytes, direction: str) -> bytes:
        rng = self.rng
        if not data or rng.random() >= self.rate:
            return data
        kind = rng.choice(self.kinds)
        self.injected[f"{direction} {kind}"] += 1
        b = bytearray(data)
        i = rng.randrange(len(b))
        if kind == "flip":
            for _ in range(rng.choice((1, 1, 2, 5))):
                b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
        elif kind == "drop":
            del b[i:i + rng.randint(1, 8)]
        elif kind == "truncate":
            del b[i:]
        elif kind == "duplicate":
            start, end = (0, len(b)) if rng.random() < 0.4 else (i, rng.randint(i + 1, len(b)))
            b[end:end] = b[start:end]  # the whole chunk (a request or reply twice) or a part of it
        else:
            junk = bytes(rng.randrange(256) for _ in range(rng.randint(1, 12)))
            if rng.random() < 0.5:  # a false sync, its length sometimes plausible
                junk = SYNC + bytes([rng.randrange(256), rng.randrange(256)]) \
                    + struct.pack("<H", rng.randrange(0, 300) if rng.random() < 0.5 else rng.randrange(65536)) + junk
            b[i:i] = junk
        return bytes(b)


def run_with_faults(built: Built, port, count: int, seed: int, trace_every: int = 3, **client_args) -> Counter:
    """COUNT inferences through PORT: each gives numba's outputs (and trace) or a LinkError; tallied."""
    client = DeviceClient(port, expected_hash=built.graph.source_hash, **{**FAST, **client_args})
    outcomes: Counter = Counter()
    for k, inputs in enumerate(random_inputs(built.graph, count, seed=seed)):
        trace = bool(trace_every) and k % trace_every == 0
        started = time.monotonic()
        try:
            outputs, result = client.infer(inputs, trace=trace)
        except LinkError as exc:
            assert "attempts" in str(exc) and client.name in str(exc)
            outcomes["link error"] += 1
            continue
        finally:
            assert time.monotonic() - started < 60, "one inference took over a minute"
        expected = built.runner.run(inputs).outputs
        assert [o.tobytes() for o in outputs] == [e.tobytes() for e in expected], f"WRONG OUTPUT at inference {k}"
        if trace:
            check_trace(built, inputs, result.trace)
        outcomes["ok"] += 1
    outcomes.update({f"link {k}": v for k, v in vars(client.counters).items()})
    return outcomes


@pytest.mark.parametrize("direction", ["write", "read"])
@pytest.mark.parametrize("kind", FAULT_KINDS)
def test_each_fault_ends_in_a_retry_or_a_clear_error(build, session_of, kind: str, direction: str) -> None:
    built = build(HELLO)
    session = session_of(built.exe)
    seed = FAULT_KINDS.index(kind) * 2 + (direction == "read")
    faulty = FaultySerial(session.serial, seed=seed, rate=0.2, kinds=(kind,), directions=(direction,))
    with watchdog(120):
        outcomes = run_with_faults(built, faulty, count=25, seed=11)
    print(kind, direction, dict(faulty.injected), dict(outcomes))
    assert sum(faulty.injected.values()) >= 10
    assert outcomes["ok"] >= 20, outcomes
    assert session.alive()
    session.close()
    assert_exited_cleanly(session)


def test_mixed_faults_on_a_multi_chunk_in_place_model(build, session_of) -> None:
    built = build(ADD)
    session = session_of(built.exe)
    faulty = FaultySerial(session.serial, seed=2024, rate=0.1)
    with watchdog(240):
        outcomes = run_with_faults(built, faulty, count=30, seed=12)
    print(dict(faulty.injected), dict(outcomes))
    assert len(faulty.injected) >= 8 and outcomes["ok"] >= 20, outcomes
    assert outcomes["link retries"] > 0 and outcomes["link stale_frames"] > 0


class DropInvokes:
    """A link that loses every INVOKE request."""

    def __init__(self, inner):
        self.inner = inner

    timeout = FaultySerial.timeout
    in_waiting = FaultySerial.in_waiting

    def write(self, data: bytes) -> int:
        start = data.find(SYNC)  # after the zero filler the client sends following a timeout
        if data[start + 2:start + 3] == bytes([Cmd.INVOKE]):
            return len(data)
        return self.inner.write(data)

    def read(self, n: int) -> bytes:
        return self.inner.read(n)


def test_invoke_retry_needs_every_input_rewritten(build, session_of) -> None:
    built = build(HELLO)
    session = session_of(built.exe)
    client = DeviceClient(DropInvokes(session.serial), **FAST)
    with watchdog(30), pytest.raises(LinkError, match="cannot be retried safely: input"):
        client.invoke()  # no input was written through this client
    client.write_input(0, np.zeros((1, 1), np.int8))
    started = time.monotonic()
    with watchdog(30), pytest.raises(LinkError, match=r"INVOKE after 5 attempts \(5x no reply"):
        client.invoke()
    assert time.monotonic() - started < 10
    assert client.counters.requests >= 1 + 5 + 4  # each retry rewrote the input first


# ---------------------------------------------------------------- refusals and failures


def test_a_device_running_another_model_is_refused(build, session_of) -> None:
    built = build(HELLO)
    session = session_of(built.exe)
    other = load(zoo_path(ADD)).source_hash
    with pytest.raises(ModelMismatchError, match="runs model 'hello_world_int8'"):
        session.client(expected_hash=other).infer([np.zeros((1, 1), np.int8)])
    session.client(expected_hash=built.graph.source_hash).identify()


class KillOnInvoke:
    """Passes bytes through, and kills the firmware right after it receives an INVOKE."""

    def __init__(self, inner, pid: int):
        self.inner, self.pid = inner, pid

    timeout = FaultySerial.timeout
    in_waiting = FaultySerial.in_waiting

    def write(self, data: bytes) -> int:
        n = self.inner.write(data)
        start = data.find(SYNC)
        if data[start + 2:start + 3] == bytes([Cmd.INVOKE]):
            os.kill(self.pid, signal.SIGKILL)
        return n

    def read(self, n: int) -> bytes:
        return self.inner.read(n)


def test_firmware_dying_mid_run_is_a_clear_error(build, session_of) -> None:
    built = build(HELLO)
    session = session_of(built.exe)
    client = DeviceClient(KillOnInvoke(session.serial, session.pid), check_alive=session.raise_if_dead,
                          name=session.pty, **FAST)
    started = time.monotonic()
    with watchdog(30), pytest.raises(DeviceGoneError, match="ended with signal SIGKILL") as info:
        client.infer([np.zeros((1, 1), np.int8)])
    assert time.monotonic() - started < 5
    assert "start a new session" in str(info.value)
    session.close()
    assert session.returncode == -signal.SIGKILL


def test_nonexistent_and_busy_ports(build, session_of) -> None:
    with pytest.raises(PortNotFoundError, match="does not exist"):
        open_port("/dev/edgeml-no-such-port")
    session = session_of(build(HELLO).exe)
    with pytest.raises(PortBusyError, match=f"{session.pty} is busy: another program has it open"):
        open_port(session.pty)
    session.client().identify()  # the session's own handle still works


def test_closing_the_pty_ends_the_firmware(build) -> None:
    session = NativeSession(build(HELLO).exe)
    session.start()
    pid = session.pid
    session.serial.close()  # the host hangs up: the firmware exits by itself
    deadline = time.monotonic() + 5
    while session.alive() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not session.alive()
    assert session.close() == 0
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


# ---------------------------------------------------------------- sanitizers


@pytest.mark.parametrize("model", [HELLO, ADD])
def test_firmware_runs_clean_under_asan_and_ubsan(build, session_of, model: str) -> None:
    built = build(model, sanitize=True)
    session = session_of(built.exe, env={"ASAN_OPTIONS": "abort_on_error=0:exitcode=86",
                                         "UBSAN_OPTIONS": "print_stacktrace=1:exitcode=87"})
    client = session.client(expected_hash=built.graph.source_hash, timeout=2.0)
    for inputs in random_inputs(built.graph, 10, seed=4):
        outputs, result = client.infer(inputs, trace=True)
        assert [o.tobytes() for o in outputs] == [e.tobytes() for e in built.runner.run(inputs).outputs]
        check_trace(built, inputs, result.trace)
    # Malformed and hostile frames, then faults.
    port = session.serial
    exchange(port, SYNC + bytes([Cmd.READ_OUTPUT, 1]) + struct.pack("<H", 0xFFFF))
    exchange(port, encode_frame(Cmd.READ_OUTPUT, 2, b"\x00\xff\xff\xff\xff\x00\x04"))
    exchange(port, encode_frame(Cmd.WRITE_INPUT, 3, b"\x00\xfc\xff\xff\xff" + bytes(1019)))
    exchange(port, encode_frame(Cmd.WRITE_INPUT, 4, b"\xff\x00\x00\x00\x00" + bytes(1019)))
    exchange(port, bytes(random.Random(1).randrange(256) for _ in range(20000)) + bytes(1034), frames=100,
             timeout=0.5)
    with watchdog(240):
        run_with_faults(built, FaultySerial(port, seed=9, rate=0.1), count=8, seed=13)
    assert session.alive(), session.stderr_text()
    session.close()
    stderr = session.stderr_text()
    assert "runtime error" not in stderr and "Sanitizer" not in stderr, stderr
    assert_exited_cleanly(session)
