"""DeviceClient: the host end of the serial protocol (edgeml/hil/protocol.py), over any pyserial-like
object (read(n), write(data), a settable `timeout`; `in_waiting` is used when present).

    with open_port("/dev/ttyACM0") as port:
        client = DeviceClient(port, expected_hash=graph.source_hash)
        outputs, result = client.infer(inputs)

Every request carries a fresh sequence number; replies with another one (late, duplicated) are
dropped, as are frames that fail their CRC. A request that gets no valid reply is retried only where
that is safe: IDENTIFY, WRITE_INPUT, READ_OUTPUT and STATS are idempotent and are simply resent; a
failed INVOKE is retried after rewriting every input, because the plan may run ops in place over the
input buffers (a first run that did happen may have consumed them). After `retries` failed retries,
a LinkError says what was seen; a read never waits longer than its timeout, so nothing hangs.
"""

from __future__ import annotations

import contextlib
import errno
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from edgeml.errors import EdgemlError, InputError
from edgeml.hil.protocol import (
    MAX_FRAME,
    MAX_PAYLOAD,
    PROTOCOL_VERSION,
    REPLY,
    TRANSIENT_ERRORS,
    WRITE_CHUNK,
    BadFrame,
    Cmd,
    DeviceInfo,
    DeviceStats,
    ErrorCode,
    FrameDecoder,
    InvokeResult,
    MalformedFrameError,
    ProtocolError,
    TraceRecord,
    encode_frame,
    invoke_payload,
    parse_error,
    parse_identify,
    parse_invoke,
    parse_stats,
    parse_trace,
    read_output_payload,
    write_input_payload,
)

__all__ = ["DeviceClient", "DeviceError", "DeviceGoneError", "DeviceInfo", "DeviceStats", "InvokeResult",
           "LinkCounters", "LinkError", "ModelMismatchError", "PortBusyError", "PortError", "PortNotFoundError",
           "ProtocolError", "TraceRecord", "open_port"]


class LinkError(ProtocolError):
    """No valid reply after every allowed retry (timeouts, corrupted frames)."""


class DeviceError(ProtocolError):
    """The device understood the request and refused it (an out-of-range index, a malformed request)."""


class DeviceGoneError(ProtocolError):
    """The port failed under us: the device (or the firmware process) stopped, or was unplugged."""


class ModelMismatchError(EdgemlError):
    """The device runs a model other than the one expected."""


class PortError(EdgemlError):
    """A serial port could not be opened."""


class PortNotFoundError(PortError):
    pass


class PortBusyError(PortError):
    pass


class _AttemptFailed(Exception):
    """One request attempt got no valid reply (internal: decides a retry)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass
class LinkCounters:
    """What the link went through (tests check that injected faults were seen and survived)."""

    requests: int = 0
    retries: int = 0
    timeouts: int = 0
    bad_frames: int = 0  # CRC or length failures in what the device sent
    damaged_requests: int = 0  # the device's reports of requests that failed their CRC or length
    stale_frames: int = 0  # valid frames for another sequence number
    resyncs: int = 0  # partial frames given up after a silence


def open_port(port: str, baudrate: int = 115200, timeout: float = 1.0):
    """Open a serial port exclusively with pyserial; PortError with what to do when it cannot be."""
    import serial  # pyserial: imported where it is needed

    try:
        return serial.Serial(port, baudrate=baudrate, timeout=timeout, write_timeout=max(timeout, 5.0),
                             exclusive=True)
    except serial.SerialException as exc:
        code = exc.errno if isinstance(exc.errno, int) else None
        if code == errno.ENOENT or (code is None and not os.path.exists(port)):
            raise PortNotFoundError(f"serial port {port} does not exist: check the cable and the port name "
                                    "(ls /dev/ttyACM* /dev/ttyUSB*), or pass --port") from None
        if code in (errno.EAGAIN, errno.EWOULDBLOCK, errno.EBUSY) or "exclusively lock" in str(exc):
            raise PortBusyError(f"serial port {port} is busy: another program has it open (a terminal, a "
                                "monitor, another edgeml run); close it and retry (`fuser -v "
                                f"{port}` shows who)") from None
        if code == errno.EACCES:
            raise PortError(f"no permission to open serial port {port}: add yourself to its group "
                            "(often `dialout`) and log in again") from None
        raise PortError(f"cannot open serial port {port}: {exc}") from None


class DeviceClient:
    """Requests over the serial protocol with timeouts, sequence checks and safe retries."""

    def __init__(self, port, *, timeout: float = 1.0, invoke_timeout: float = 30.0, retries: int = 4,
                 frame_gap: float = 0.2, expected_hash: str | bytes | None = None, name: str | None = None,
                 check_alive: Callable[[], None] | None = None):
        """timeout: seconds to wait for a reply; invoke_timeout: for an INVOKE's reply (or between its
        trace frames); retries: resends after the first attempt; frame_gap: seconds of silence after
        which a partial frame is given up (its length was probably corrupted); expected_hash: sha256
        (hex or bytes) of the model the device must run; check_alive: raises a clear error if the
        device is known to be dead (e.g. the firmware process exited)."""
        self.port = port
        self.name = name or str(getattr(port, "port", None) or getattr(port, "name", None) or port)
        self.timeout = timeout
        self.invoke_timeout = invoke_timeout
        self.retries = retries
        self.frame_gap = frame_gap
        self.expected_hash = bytes.fromhex(expected_hash) if isinstance(expected_hash, str) else expected_hash
        self.check_alive = check_alive
        self.counters = LinkCounters()
        self._decoder = FrameDecoder()
        self._seq = os.urandom(1)[0]  # a new client does not reuse a previous session's numbers
        self._flush_next = False
        self._info: DeviceInfo | None = None
        self._inputs: dict[int, bytes] = {}  # what each input holds, to rewrite before an INVOKE retry

    # ---------------------------------------------------------------- requests

    def identify(self) -> DeviceInfo:
        """What the device runs; checks the protocol version and, if given, the model hash."""
        info = self._request(Cmd.IDENTIFY, b"", parse_identify)
        if info.protocol_version != PROTOCOL_VERSION:
            raise ProtocolError(f"{self.name}: the device speaks protocol version {info.protocol_version}, this "
                                f"edgeml speaks {PROTOCOL_VERSION}: rebuild and flash the firmware with this edgeml")
        self._info = info
        if self.expected_hash is not None:
            self.check_model(self.expected_hash)
        return info

    @property
    def info(self) -> DeviceInfo:
        return self._info if self._info is not None else self.identify()

    def check_model(self, expected_hash: str | bytes) -> None:
        expected = bytes.fromhex(expected_hash) if isinstance(expected_hash, str) else bytes(expected_hash)
        info = self.info
        if info.model_hash != expected:
            raise ModelMismatchError(
                f"{self.name}: the device runs model {info.model_name!r} (sha256 {info.model_hash.hex()[:16]}…), "
                f"not the expected one (sha256 {expected.hex()[:16]}…): build and flash the firmware for this "
                "model (`edgeml convert` + `edgeml build`), or pass the model the device was built from")

    def write_input(self, index: int, data: bytes | np.ndarray) -> None:
        """Write a whole input tensor (in chunks); remembered so that an INVOKE retry can rewrite it."""
        tensor = self._tensor("input", index)
        raw = data.tobytes() if isinstance(data, np.ndarray) else bytes(data)
        if len(raw) != tensor.nbytes:
            raise InputError(f"input {index} is {tensor.nbytes} bytes on the device, got {len(raw)} bytes")
        self._inputs.pop(index, None)  # until every chunk is acknowledged, the device holds a mix
        for offset in range(0, len(raw), WRITE_CHUNK):
            payload = write_input_payload(index, offset, raw[offset:offset + WRITE_CHUNK])
            self._request(Cmd.WRITE_INPUT, payload, _expect_empty)
        self._inputs[index] = raw

    def read_output(self, index: int) -> bytes:
        """A whole output tensor's bytes (in chunks)."""
        tensor = self._tensor("output", index)
        chunks = []
        for offset in range(0, tensor.nbytes, MAX_PAYLOAD):
            length = min(MAX_PAYLOAD, tensor.nbytes - offset)
            chunk = self._request(Cmd.READ_OUTPUT, read_output_payload(index, offset, length), bytes)
            if len(chunk) != length:
                raise LinkError(f"{self.name}: READ_OUTPUT returned {len(chunk)} bytes, asked for {length}")
            chunks.append(chunk)
        return b"".join(chunks)

    def invoke(self, trace: bool = False) -> InvokeResult:
        """Run the model once; with trace, a CRC of every op's first output comes back too."""
        info = self.info
        failures: list[str] = []
        for attempt in range(self.retries + 1):
            if attempt:
                self._rewrite_inputs(info, failures)
            try:
                return self._invoke_once(trace)
            except _AttemptFailed as failed:
                failures.append(failed.reason)
                self.counters.retries += 1
        raise self._exhausted(Cmd.INVOKE, failures)

    def stats(self) -> DeviceStats:
        return self._request(Cmd.STATS, b"", parse_stats)

    def infer(self, inputs: Sequence[np.ndarray], trace: bool = False) -> tuple[list[np.ndarray], InvokeResult]:
        """Write every input, invoke, read every output: (outputs as arrays, the invocation)."""
        info = self.info
        if len(inputs) != len(info.inputs):
            raise InputError(f"the model on {self.name} takes {len(info.inputs)} inputs, got {len(inputs)}")
        for k, (array, tensor) in enumerate(zip(inputs, info.inputs, strict=True)):
            array = np.ascontiguousarray(array)
            if array.dtype != tensor.np_dtype or array.nbytes != tensor.nbytes:
                raise InputError(f"input {k}: the device expects {tensor.np_dtype} {list(tensor.shape)} "
                                 f"({tensor.nbytes} bytes), got {array.dtype} {list(array.shape)}")
            self.write_input(k, array)
        result = self.invoke(trace=trace)
        outputs = [tensor.to_array(self.read_output(k)) for k, tensor in enumerate(info.outputs)]
        return outputs, result

    # ---------------------------------------------------------------- retries

    def _request(self, cmd: Cmd, payload: bytes, parse: Callable[[bytes], object]):
        """An idempotent request: resent until a valid reply, at most `retries` times."""
        failures: list[str] = []
        for _ in range(self.retries + 1):
            try:
                reply = self._attempt(cmd, payload, self.timeout)
                return parse(reply)
            except MalformedFrameError as exc:
                failures.append(str(exc))
            except _AttemptFailed as failed:
                failures.append(failed.reason)
            self.counters.retries += 1
        raise self._exhausted(cmd, failures)

    def _invoke_once(self, trace: bool) -> InvokeResult:
        records: list[TraceRecord] = []

        def on_trace(payload: bytes) -> None:
            try:
                records.append(parse_trace(payload))
            except MalformedFrameError as exc:
                raise _AttemptFailed(str(exc)) from None
            if len(records) > self.info.n_ops:  # each record extends the deadline: keep that bounded
                raise _AttemptFailed(f"more trace records than the model's {self.info.n_ops} ops")

        reply = self._attempt(Cmd.INVOKE, invoke_payload(trace), self.invoke_timeout, on_trace if trace else None)
        try:
            ticks, ops = parse_invoke(reply)
        except MalformedFrameError as exc:
            raise _AttemptFailed(str(exc)) from None
        if trace and [r.step for r in records] != list(range(ops)):
            raise _AttemptFailed(f"trace incomplete ({len(records)} of {ops} op records)")
        return InvokeResult(ticks, ops, tuple(records))

    def _rewrite_inputs(self, info: DeviceInfo, failures: list[str]) -> None:
        missing = [k for k in range(len(info.inputs)) if k not in self._inputs]
        if missing:
            raise LinkError(f"{self.name}: INVOKE failed ({failures[-1]}) and cannot be retried safely: input(s) "
                            f"{missing} were not written through this client, and a first run that did happen may "
                            "have overwritten them in place; write every input and invoke again")
        for k in range(len(info.inputs)):
            self.write_input(k, self._inputs[k])

    def _exhausted(self, cmd: Cmd, failures: list[str]) -> LinkError:
        self._check_alive()
        summary = "; ".join(f"{failures.count(f)}x {f}" for f in dict.fromkeys(failures))
        return LinkError(f"{self.name}: no valid reply to {cmd.name} after {len(failures)} attempts ({summary}). "
                         "Check that the device runs edgeml firmware and is not held in reset, the port and baud "
                         "rate, and the cable; on a slow link raise the timeout (timeout=, invoke_timeout=).")

    # ---------------------------------------------------------------- one attempt

    def _next_seq(self) -> int:
        self._seq = (self._seq + 1) & 0xFF
        return self._seq

    def _attempt(self, cmd: Cmd, payload: bytes, timeout: float,
                 on_trace: Callable[[bytes], None] | None = None) -> bytes:
        """Send once and wait for the reply with the same seq; _AttemptFailed if none comes."""
        seq = self._next_seq()
        frame = encode_frame(cmd, seq, payload)
        if self._flush_next:
            # The device may sit in a partial frame (bytes lost on the way): zeros complete it (it then
            # fails its CRC) and are skipped as noise before this request's sync.
            frame = bytes(MAX_FRAME) + frame
            self._flush_next = False
        self.counters.requests += 1
        self._write(frame)
        deadline = time.monotonic() + timeout
        last_data = time.monotonic()
        corrupted = ""
        while True:
            event = self._decoder.next_event()
            if isinstance(event, BadFrame):
                # Probably our reply, damaged: wait only briefly for a valid frame behind it.
                self.counters.bad_frames += 1
                corrupted = f"corrupted frame from the device (bad {event.reason})"
                deadline = min(deadline, time.monotonic() + self.frame_gap)
                continue
            if event is not None:
                reply = self._match(event, cmd, seq)
                if reply is not None:
                    return reply
                if event.cmd == Cmd.TRACE and on_trace is not None and event.seq == seq:
                    on_trace(event.payload)
                    deadline = time.monotonic() + timeout  # the device is alive and working
                continue
            now = time.monotonic()
            if now >= deadline:
                if corrupted:
                    raise _AttemptFailed(corrupted)
                self.counters.timeouts += 1
                self._flush_next = True
                self._check_alive()
                raise _AttemptFailed(f"no reply within {timeout:g} s")
            data = self._read(min(deadline - now, self.frame_gap), self._decoder.bytes_needed())
            if data:
                last_data = time.monotonic()
                self._decoder.feed(data)
            elif self._decoder.pending and time.monotonic() - last_data >= self.frame_gap:
                # A frame stopped short (bytes lost, or a false header): rescan what came, then wait
                # only briefly, as after a corrupted frame.
                self.counters.resyncs += 1
                self._decoder.resync()
                corrupted = "incomplete frame from the device"
                deadline = min(deadline, time.monotonic() + self.frame_gap)

    def _match(self, event, cmd: Cmd, seq: int) -> bytes | None:
        """The reply's payload if EVENT answers (cmd, seq); None to keep waiting; _AttemptFailed to resend."""
        if event.seq != seq:
            self.counters.stale_frames += 1
            return None
        if event.cmd == Cmd.ERROR:
            try:
                code, message = parse_error(event.payload)
            except MalformedFrameError as exc:
                raise _AttemptFailed(str(exc)) from None
            if code in TRANSIENT_ERRORS:
                self.counters.damaged_requests += 1
                raise _AttemptFailed(f"the device received a damaged request ({message})")
            name = ErrorCode(code).name if code in ErrorCode._value2member_map_ else str(code)
            raise DeviceError(f"{self.name}: the device refused {cmd.name}: {name} ({message})")
        if event.cmd == cmd | REPLY:
            return event.payload
        if event.cmd == Cmd.TRACE:
            return None
        raise _AttemptFailed(f"unexpected reply 0x{event.cmd:02x} to {cmd.name}")

    # ---------------------------------------------------------------- the port

    def _check_alive(self) -> None:
        if self.check_alive is not None:
            self.check_alive()

    def _gone(self, what: str, exc: Exception) -> DeviceGoneError:
        self._check_alive()
        return DeviceGoneError(f"{self.name}: {what} failed ({exc}): the device closed the connection, was reset "
                               "or unplugged, or the firmware process stopped; reconnect (and re-flash) and retry")

    def _write(self, data: bytes) -> None:
        try:
            self.port.write(data)
        except Exception as exc:  # pyserial raises SerialException, SerialTimeoutException or OSError
            if type(exc).__name__ == "SerialTimeoutException":
                self._flush_next = True
                raise _AttemptFailed("the device did not take the request (write timeout)") from None
            raise self._gone("writing", exc) from None

    def _read(self, wait: float, wanted: int) -> bytes:
        """Up to what is waiting (at least WANTED bytes if they come), waiting at most WAIT seconds."""
        try:
            waiting = getattr(self.port, "in_waiting", 0) or 0
            self.port.timeout = max(wait, 0.0)
            return self.port.read(max(wanted, waiting, 1))
        except Exception as exc:
            raise self._gone("reading", exc) from None

    def _tensor(self, kind: str, index: int):
        tensors = self.info.inputs if kind == "input" else self.info.outputs
        if not 0 <= index < len(tensors):
            raise InputError(f"the model on {self.name} has {len(tensors)} {kind}s, no {kind} {index}")
        return tensors[index]


def _expect_empty(payload: bytes) -> None:
    if payload:
        raise MalformedFrameError(f"expected an empty reply, got {len(payload)} bytes")


def close_quietly(port) -> None:
    with contextlib.suppress(Exception):
        port.close()
