"""The edgeml serial protocol, host side: CRC, frames, an incremental decoder, payload layouts.

The format is defined once, in firmware/include/edg_protocol.h; this module mirrors it:

    0xED 0x6E | u8 cmd | u8 seq | u16 length | payload | u32 CRC-32 (over cmd..payload), little-endian

The decoder takes bytes as they arrive and yields frames; garbage between frames is skipped, and
after a frame fails its CRC (or announces an impossible length) it rescans from the byte after that
frame's sync, so a frame hidden behind noise is still found.
"""

from __future__ import annotations

import struct
import zlib
from collections import deque
from dataclasses import dataclass, field
from enum import IntEnum

import numpy as np

from edgeml.errors import EdgemlError

PROTOCOL_VERSION = 2
SYNC = b"\xed\x6e"
MAX_PAYLOAD = 1024
HEADER_BYTES = 6  # sync, cmd, seq, length
CRC_BYTES = 4
MAX_FRAME = HEADER_BYTES + MAX_PAYLOAD + CRC_BYTES
REPLY = 0x80
INVOKE_TRACE = 0x01
WRITE_HEADER = 5  # u8 index, u32 offset before WRITE_INPUT's data
WRITE_CHUNK = MAX_PAYLOAD - WRITE_HEADER


class Cmd(IntEnum):
    IDENTIFY = 0x01
    WRITE_INPUT = 0x02
    INVOKE = 0x03
    READ_OUTPUT = 0x04
    STATS = 0x05
    TRACE = 0x86  # device -> host, during a traced INVOKE
    ERROR = 0xFF  # device -> host


class ErrorCode(IntEnum):
    BAD_CRC = 1
    BAD_LENGTH = 2
    UNKNOWN_CMD = 3
    BAD_REQUEST = 4
    OUT_OF_RANGE = 5
    TOO_LARGE = 6


TRANSIENT_ERRORS = (ErrorCode.BAD_CRC, ErrorCode.BAD_LENGTH)  # the request was damaged on the way: resend

# edg_dtype_t codes (firmware/include/edg_model.h) -> numpy; packed int1 travels as raw bytes.
DTYPES = {0: np.int8, 1: np.uint8, 2: np.int16, 3: np.int32, 4: np.int64, 5: np.float32, 6: np.bool_, 7: np.uint8}


class ProtocolError(EdgemlError):
    """Talking to a device over the serial protocol failed."""


class MalformedFrameError(ProtocolError):
    """Bytes that do not form a valid frame, or a payload that does not fit its command's layout."""


def crc32(data: bytes, value: int = 0) -> int:
    """IEEE 802.3 CRC-32 (as edg_crc32 in C): b"123456789" -> 0xCBF43926."""
    return zlib.crc32(data, value) & 0xFFFFFFFF


@dataclass(frozen=True)
class Frame:
    cmd: int
    seq: int
    payload: bytes = b""

    def encode(self) -> bytes:
        return encode_frame(self.cmd, self.seq, self.payload)


@dataclass(frozen=True)
class BadFrame:
    """Something frame-shaped that failed: reason "crc" or "length", with the header as received."""

    reason: str
    cmd: int
    seq: int


def encode_frame(cmd: int, seq: int, payload: bytes = b"") -> bytes:
    if not 0 <= cmd <= 0xFF or not 0 <= seq <= 0xFF:
        raise ValueError(f"cmd and seq are bytes (got cmd={cmd}, seq={seq})")
    if len(payload) > MAX_PAYLOAD:
        raise ValueError(f"payload of {len(payload)} bytes is over the protocol's {MAX_PAYLOAD}")
    body = struct.pack("<BBH", cmd, seq, len(payload)) + bytes(payload)
    return SYNC + body + struct.pack("<I", crc32(body))


def decode_frame(data: bytes) -> Frame:
    """Exactly one frame; MalformedFrameError otherwise."""
    decoder = FrameDecoder()
    decoder.feed(data)
    event = decoder.next_event()
    if not isinstance(event, Frame) or decoder.pending or decoder.next_event() is not None or decoder.skipped:
        raise MalformedFrameError(f"not exactly one valid frame: {bytes(data[:32]).hex()}…")
    return event


class FrameDecoder:
    """Incremental decoder: feed() bytes, then take Frame / BadFrame events with next_event()."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._events: deque[Frame | BadFrame] = deque()
        self.skipped = 0  # bytes discarded as noise

    def feed(self, data: bytes) -> None:
        self._buffer += data
        self._parse()

    def next_event(self) -> Frame | BadFrame | None:
        return self._events.popleft() if self._events else None

    @property
    def pending(self) -> int:
        """Bytes held for a frame not complete yet."""
        return len(self._buffer)

    def bytes_needed(self) -> int:
        """At least this many more bytes are needed before the next event (>= 1)."""
        buf = self._buffer
        if len(buf) < HEADER_BYTES:
            return HEADER_BYTES - len(buf) if buf[:1] == SYNC[:1] else HEADER_BYTES
        length = int.from_bytes(buf[4:6], "little")
        return max(1, HEADER_BYTES + length + CRC_BYTES - len(buf))

    def resync(self) -> None:
        """Give up the partial frame (its length was probably corrupted): rescan after its sync."""
        if self._buffer:
            del self._buffer[:1]
            self.skipped += 1
            self._parse()

    def _parse(self) -> None:
        buf = self._buffer
        while True:
            start = buf.find(SYNC)
            if start < 0:
                keep = 1 if buf[-1:] == SYNC[:1] else 0  # a sync may be split across reads
                self.skipped += len(buf) - keep
                del buf[:len(buf) - keep]
                return
            if start:
                self.skipped += start
                del buf[:start]
            if len(buf) < HEADER_BYTES:
                return
            cmd, seq, length = buf[2], buf[3], int.from_bytes(buf[4:6], "little")
            if length > MAX_PAYLOAD:
                self._events.append(BadFrame("length", cmd, seq))
                self._skip_sync()
                continue
            end = HEADER_BYTES + length + CRC_BYTES
            if len(buf) < end:
                return
            body = bytes(buf[2:HEADER_BYTES + length])
            if int.from_bytes(buf[end - CRC_BYTES:end], "little") != crc32(body):
                self._events.append(BadFrame("crc", cmd, seq))
                self._skip_sync()
                continue
            self._events.append(Frame(cmd, seq, body[4:]))
            del buf[:end]

    def _skip_sync(self) -> None:
        del self._buffer[:1]
        self.skipped += 1


# ---------------------------------------------------------------- payload layouts


@dataclass(frozen=True)
class TensorInfo:
    """A model input or output as the device describes it."""

    dtype: int  # edg_dtype_t
    shape: tuple[int, ...]
    nbytes: int

    @property
    def np_dtype(self) -> np.dtype:
        if self.dtype not in DTYPES:
            raise MalformedFrameError(f"unknown dtype code {self.dtype} from the device")
        return np.dtype(DTYPES[self.dtype])

    def to_array(self, data: bytes) -> np.ndarray:
        if self.dtype == 7:  # packed int1: the bytes as they are
            return np.frombuffer(data, dtype=np.uint8).copy()
        return np.frombuffer(data, dtype=self.np_dtype).reshape(self.shape).copy()


@dataclass(frozen=True)
class DeviceInfo:
    protocol_version: int
    edgeml_version: str
    model_name: str
    model_hash: bytes  # sha256 of the source model file
    target: str
    arena_bytes: int
    tick_hz: int
    n_ops: int
    inputs: tuple[TensorInfo, ...]
    outputs: tuple[TensorInfo, ...]


@dataclass(frozen=True)
class TraceRecord:
    step: int
    node: int
    nbytes: int
    crc: int  # CRC-32 of the op's first output
    ticks: int  # the op's own ticks (instructions under QEMU -icount, scaled by 1e9 / tick_hz)


@dataclass(frozen=True)
class InvokeResult:
    ticks: int
    op_count: int
    trace: tuple[TraceRecord, ...] = field(default=())


@dataclass(frozen=True)
class DeviceStats:
    last_ticks: int
    tick_hz: int
    stack_unused: int
    stack_size: int
    invocations: int


class _Reader:
    """Little-endian fields from a payload; MalformedFrameError when it runs short or has bytes left."""

    def __init__(self, data: bytes, what: str):
        self.data, self.pos, self.what = data, 0, what

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise MalformedFrameError(f"{self.what} reply too short ({len(self.data)} bytes)")
        chunk = self.data[self.pos:self.pos + n]
        self.pos += n
        return chunk

    def unpack(self, fmt: str) -> tuple:
        return struct.unpack("<" + fmt, self.take(struct.calcsize("<" + fmt)))

    def string(self) -> str:
        (n,) = self.unpack("B")
        return self.take(n).decode("ascii", errors="replace")

    def done(self) -> None:
        if self.pos != len(self.data):
            raise MalformedFrameError(f"{self.what} reply has {len(self.data) - self.pos} unexpected trailing bytes")


def parse_identify(payload: bytes) -> DeviceInfo:
    r = _Reader(payload, "IDENTIFY")
    (version,) = r.unpack("B")
    edgeml_version, model_name = r.string(), r.string()
    model_hash = r.take(32)
    target = r.string()
    arena, tick_hz, n_ops, n_in, n_out = r.unpack("IIHBB")
    tensors = []
    for _ in range(n_in + n_out):
        dtype, rank = r.unpack("BB")
        shape = r.unpack(f"{rank}i")
        (nbytes,) = r.unpack("I")
        tensors.append(TensorInfo(dtype, tuple(shape), nbytes))
    r.done()
    return DeviceInfo(version, edgeml_version, model_name, bytes(model_hash), target, arena, tick_hz, n_ops,
                      tuple(tensors[:n_in]), tuple(tensors[n_in:]))


def parse_trace(payload: bytes) -> TraceRecord:
    r = _Reader(payload, "TRACE")
    record = TraceRecord(*r.unpack("HHIII"))
    r.done()
    return record


def parse_invoke(payload: bytes) -> tuple[int, int]:
    r = _Reader(payload, "INVOKE")
    ticks, ops = r.unpack("QH")
    r.done()
    return ticks, ops


def parse_stats(payload: bytes) -> DeviceStats:
    r = _Reader(payload, "STATS")
    stats = DeviceStats(*r.unpack("QIIII"))
    r.done()
    return stats


def parse_error(payload: bytes) -> tuple[int, str]:
    if not payload:
        raise MalformedFrameError("error reply without a code")
    return payload[0], payload[1:].decode("ascii", errors="replace")


def write_input_payload(index: int, offset: int, data: bytes) -> bytes:
    return struct.pack("<BI", index, offset) + bytes(data)


def read_output_payload(index: int, offset: int, length: int) -> bytes:
    return struct.pack("<BIH", index, offset, length)


def invoke_payload(trace: bool) -> bytes:
    return bytes([INVOKE_TRACE if trace else 0])
