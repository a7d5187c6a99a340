"""The serial protocol's host side without a device: CRC, frames, the resynchronising decoder, payload
layouts, and the client's sequence checks, error replies and bounded retries against a scripted port."""

from __future__ import annotations

import random
import shutil
import struct
import subprocess
import time
import zlib
from collections.abc import Callable

import numpy as np
import pytest

from edgeml.errors import InputError
from edgeml.firmware import INCLUDE_DIR, SOURCE_DIR
from edgeml.hil.client import DeviceClient, DeviceError, LinkError, ModelMismatchError
from edgeml.hil.protocol import (
    MAX_PAYLOAD,
    PROTOCOL_VERSION,
    BadFrame,
    Cmd,
    ErrorCode,
    Frame,
    FrameDecoder,
    MalformedFrameError,
    crc32,
    decode_frame,
    encode_frame,
    parse_identify,
    parse_invoke,
    parse_stats,
)

# ---------------------------------------------------------------- CRC


def test_crc32_check_value() -> None:
    assert crc32(b"123456789") == 0xCBF43926
    assert crc32(b"") == 0
    assert crc32(b"\x00") == 0xD202EF8D
    assert crc32(b"456789", crc32(b"123")) == crc32(b"123456789")  # the running form


def _bitwise_crc32(data: bytes) -> int:
    reg = 0xFFFFFFFF
    for byte in data:
        reg ^= byte
        for _ in range(8):
            reg = (reg >> 1) ^ (0xEDB88320 if reg & 1 else 0)
    return reg ^ 0xFFFFFFFF


def test_crc32_matches_the_definition() -> None:
    rng = random.Random(1)
    for n in (1, 2, 7, 64, 1029):
        data = bytes(rng.randrange(256) for _ in range(n))
        assert crc32(data) == _bitwise_crc32(data)


@pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc not installed")
def test_c_crc32_matches_python(tmp_path) -> None:
    """firmware/src/edg_crc32.c (nibble table) against zlib, through a tiny test program."""
    main = tmp_path / "main.c"
    main.write_text(r"""#include <stdio.h>
#include "edg_crc32.h"
int main(void) {
    static unsigned char buf[4096];
    size_t n = fread(buf, 1, sizeof buf, stdin);
    uint32_t split = edg_crc32_final(edg_crc32_update(edg_crc32_update(EDG_CRC32_INIT, buf, n / 3), buf + n / 3,
                                                      n - n / 3));
    printf("%08x %08x\n", (unsigned)edg_crc32(buf, n), (unsigned)split);
    return 0;
}
""")
    exe = tmp_path / "crc"
    subprocess.run(["gcc", "-std=c99", "-Wall", "-Wextra", "-Werror", "-Wconversion", "-Wno-sign-conversion",
                    f"-I{INCLUDE_DIR}", str(main), str(SOURCE_DIR / "edg_crc32.c"), "-o", str(exe)], check=True)
    rng = random.Random(2)
    for data in (b"123456789", b"", bytes(rng.randrange(256) for _ in range(4000))):
        out = subprocess.run([str(exe)], input=data, capture_output=True, check=True).stdout.split()
        assert [int(x, 16) for x in out] == [zlib.crc32(data)] * 2


# ---------------------------------------------------------------- frames


def test_frame_layout_is_the_documented_one() -> None:
    frame = encode_frame(Cmd.READ_OUTPUT, 0x2A, b"\x01\x02\x03")
    assert frame[:2] == b"\xed\x6e"
    assert frame[2:6] == bytes([0x04, 0x2A, 0x03, 0x00])  # cmd, seq, u16 length little-endian
    assert frame[6:9] == b"\x01\x02\x03"
    assert frame[9:] == struct.pack("<I", zlib.crc32(frame[2:9]))
    assert decode_frame(frame) == Frame(0x04, 0x2A, b"\x01\x02\x03")


def test_encode_refuses_oversized_payloads() -> None:
    encode_frame(1, 0, bytes(MAX_PAYLOAD))
    with pytest.raises(ValueError, match="over the protocol"):
        encode_frame(1, 0, bytes(MAX_PAYLOAD + 1))
    with pytest.raises(ValueError):
        encode_frame(256, 0)


@pytest.mark.parametrize("damage", ["flip", "truncate", "extra"])
def test_decode_frame_rejects_damage(damage: str) -> None:
    frame = bytearray(encode_frame(2, 9, b"hello"))
    if damage == "flip":
        frame[7] ^= 0x10
    elif damage == "truncate":
        del frame[-1]
    else:
        frame += b"\x00"
    with pytest.raises(MalformedFrameError):
        decode_frame(bytes(frame))


def _events(decoder: FrameDecoder) -> list:
    out = []
    while (event := decoder.next_event()) is not None:
        out.append(event)
    return out


def test_decoder_byte_by_byte_and_across_garbage() -> None:
    frames = [Frame(0x81, k, bytes(range(k))) for k in range(5)]
    stream = b"noise\xed" + frames[0].encode() + b"\x00\xed\xed" + frames[1].encode() + frames[2].encode() \
        + b"\xed" + frames[3].encode() + bytes(100) + frames[4].encode()
    decoder = FrameDecoder()
    for b in stream:
        decoder.feed(bytes([b]))
    assert _events(decoder) == frames
    assert decoder.pending == 0
    assert decoder.skipped == len(stream) - sum(len(f.encode()) for f in frames)


def test_decoder_resynchronises_after_a_bad_crc() -> None:
    good = Frame(0x84, 3, b"payload")
    bad = bytearray(Frame(0x84, 2, b"xxxx").encode())
    bad[-1] ^= 1
    decoder = FrameDecoder()
    decoder.feed(bytes(bad) + good.encode())
    assert _events(decoder) == [BadFrame("crc", 0x84, 2), good]


def test_decoder_finds_a_frame_behind_a_false_sync() -> None:
    """A noise 0xED 0x6E followed by an impossible length is dropped at once; the frame behind is found."""
    good = Frame(0x85, 1, b"abc")
    decoder = FrameDecoder()
    decoder.feed(b"\xed\x6e\x01\x02\xff\xff" + good.encode())
    assert _events(decoder) == [BadFrame("length", 1, 2), good]


def test_decoder_resync_recovers_a_frame_swallowed_by_a_false_header() -> None:
    """A false header with a plausible length swallows the real frame; resync() (after a silence) finds it."""
    good = Frame(0x83, 4, b"0123456789")
    decoder = FrameDecoder()
    decoder.feed(b"\xed\x6e\x03\x09\x00\x02" + good.encode())  # claims 512 bytes
    assert _events(decoder) == [] and decoder.bytes_needed() > 400
    decoder.resync()
    assert _events(decoder) == [good]


def test_decoder_random_streams() -> None:
    """Random frames between random noise: every frame comes out, in order, whatever the chunking."""
    rng = random.Random(7)
    frames = [Frame(rng.randrange(0x80, 0x86), rng.randrange(256), bytes(rng.randrange(256) for _ in
                                                                         range(rng.randrange(0, 300))))
              for _ in range(200)]
    stream = bytearray()
    for f in frames:
        stream += bytes(rng.choice([0x00, 0x6E, 0x11]) for _ in range(rng.randrange(0, 5)))
        stream += f.encode()
    decoder = FrameDecoder()
    pos = 0
    while pos < len(stream):
        step = rng.randrange(1, 700)
        decoder.feed(bytes(stream[pos:pos + step]))
        pos += step
    assert [e for e in _events(decoder) if isinstance(e, Frame)] == frames


# ---------------------------------------------------------------- payload layouts


def identify_payload(hash_: bytes = bytes(range(32)), inputs=((0, (1, 4), 4),), outputs=((3, (2,), 8),)) -> bytes:
    def s(text: str) -> bytes:
        return bytes([len(text)]) + text.encode()

    body = bytes([PROTOCOL_VERSION]) + s("0.1.0") + s("tiny") + hash_ + s("host") + struct.pack("<IIHBB", 96, 10**9, 3,
                                                                                   len(inputs), len(outputs))
    for dtype, shape, nbytes in (*inputs, *outputs):
        body += struct.pack(f"<BB{len(shape)}iI", dtype, len(shape), *shape, nbytes)
    return body


def test_parse_identify() -> None:
    info = parse_identify(identify_payload())
    assert (info.model_name, info.target, info.arena_bytes, info.tick_hz, info.n_ops) == ("tiny", "host", 96, 10**9, 3)
    assert info.model_hash == bytes(range(32)) and info.edgeml_version == "0.1.0"
    assert [(t.dtype, t.shape, t.nbytes) for t in info.inputs] == [(0, (1, 4), 4)]
    assert info.outputs[0].np_dtype == np.int32
    with pytest.raises(MalformedFrameError, match="too short"):
        parse_identify(identify_payload()[:-1])
    with pytest.raises(MalformedFrameError, match="trailing"):
        parse_identify(identify_payload() + b"\x00")


def test_parse_invoke_and_stats() -> None:
    assert parse_invoke(struct.pack("<QH", 2**40 + 5, 7)) == (2**40 + 5, 7)
    stats = parse_stats(struct.pack("<QIIII", 9, 25_000_000, 100, 4096, 3))
    assert (stats.last_ticks, stats.tick_hz, stats.stack_unused, stats.stack_size, stats.invocations) == \
        (9, 25_000_000, 100, 4096, 3)
    with pytest.raises(MalformedFrameError):
        parse_invoke(b"\x00" * 9)


# ---------------------------------------------------------------- the client against a scripted port


class ScriptedPort:
    """A pyserial-like port whose replies a function writes: respond(frame, seq) -> bytes to send back."""

    def __init__(self, respond: Callable[[Frame], bytes]):
        self.respond = respond
        self.timeout = 1.0
        self.outgoing = bytearray()
        self.requests: list[Frame] = []
        self._decoder = FrameDecoder()

    def write(self, data: bytes) -> int:
        self._decoder.feed(data)
        while (event := self._decoder.next_event()) is not None:
            if isinstance(event, Frame):
                self.requests.append(event)
                self.outgoing += self.respond(event)
        return len(data)

    @property
    def in_waiting(self) -> int:
        return len(self.outgoing)

    def read(self, n: int) -> bytes:
        if not self.outgoing:
            time.sleep(min(self.timeout, 0.01))
            return b""
        chunk = bytes(self.outgoing[:n])
        del self.outgoing[:n]
        return chunk


def reply(request: Frame, payload: bytes = b"", cmd: int | None = None, seq: int | None = None) -> bytes:
    return encode_frame(request.cmd | 0x80 if cmd is None else cmd, request.seq if seq is None else seq, payload)


def test_client_discards_stale_and_duplicate_replies() -> None:
    def respond(req: Frame) -> bytes:
        if req.cmd == Cmd.IDENTIFY:
            return reply(req, identify_payload())
        stale = reply(req, struct.pack("<QIIII", 1, 1, 1, 1, 1), seq=(req.seq - 1) & 0xFF)
        good = reply(req, struct.pack("<QIIII", 2, 2, 2, 2, 2))
        return stale + good + good  # an old reply, then ours twice

    client = DeviceClient(ScriptedPort(respond), timeout=0.2)
    assert client.stats().invocations == 2
    assert client.stats().invocations == 2  # the duplicate of the first is dropped as stale
    assert client.counters.stale_frames >= 3 and client.counters.retries == 0


def test_client_refuses_another_model() -> None:
    port = ScriptedPort(lambda req: reply(req, identify_payload(hash_=bytes(32))))
    with pytest.raises(ModelMismatchError, match="not the expected one"):
        DeviceClient(port, expected_hash=bytes(range(32)).hex()).identify()
    DeviceClient(port, expected_hash=bytes(32)).identify()


def test_client_does_not_retry_a_refusal() -> None:
    def respond(req: Frame) -> bytes:
        if req.cmd == Cmd.IDENTIFY:
            return reply(req, identify_payload())
        return reply(req, bytes([ErrorCode.OUT_OF_RANGE]) + b"write past the end", cmd=Cmd.ERROR)

    port = ScriptedPort(respond)
    client = DeviceClient(port, timeout=0.2)
    with pytest.raises(DeviceError, match="OUT_OF_RANGE"):
        client.write_input(0, b"\x00" * 4)
    assert [r.cmd for r in port.requests] == [Cmd.IDENTIFY, Cmd.WRITE_INPUT]


def test_client_gives_up_after_its_retries_without_hanging() -> None:
    port = ScriptedPort(lambda req: b"")  # a device that never answers
    client = DeviceClient(port, timeout=0.1, retries=3)
    start = time.monotonic()
    with pytest.raises(LinkError, match=r"IDENTIFY after 4 attempts \(4x no reply within 0.1 s\)"):
        client.identify()
    assert time.monotonic() - start < 2.0
    assert len(port.requests) == 4 and client.counters.timeouts == 4


def test_client_retries_a_damaged_request_reported_by_the_device() -> None:
    calls = []

    def respond(req: Frame) -> bytes:
        calls.append(req.cmd)
        if len(calls) < 3:
            return reply(req, bytes([ErrorCode.BAD_CRC]) + b"bad CRC", cmd=Cmd.ERROR)
        return reply(req, identify_payload())

    client = DeviceClient(ScriptedPort(respond), timeout=0.2)
    assert client.identify().model_name == "tiny"
    assert client.counters.damaged_requests == 2 and client.counters.timeouts == 0


def test_client_retries_a_malformed_reply() -> None:
    calls = []

    def respond(req: Frame) -> bytes:
        calls.append(req.cmd)
        return reply(req, identify_payload()[: -1 if len(calls) == 1 else None])

    assert DeviceClient(ScriptedPort(respond), timeout=0.2).identify().n_ops == 3
    assert len(calls) == 2


def test_client_checks_inputs_before_sending() -> None:
    port = ScriptedPort(lambda req: reply(req, identify_payload()))
    client = DeviceClient(port, timeout=0.2)
    with pytest.raises(InputError, match="expects int8"):
        client.infer([np.zeros((1, 4), np.int16)])
    with pytest.raises(InputError, match="takes 1 inputs"):
        client.infer([])
    assert [r.cmd for r in port.requests] == [Cmd.IDENTIFY]
