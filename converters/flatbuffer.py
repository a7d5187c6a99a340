"""A small, bounds-checked FlatBuffers reader.

Every access is checked against the buffer, so a truncated or corrupted file raises a
ModelFormatError naming the byte offset instead of reading garbage or crashing.
"""

from __future__ import annotations

import struct

import numpy as np

from edgeml.errors import ModelFormatError

_SCALARS = {
    "b": 1, "B": 1, "?": 1, "h": 2, "H": 2, "i": 4, "I": 4, "q": 8, "Q": 8, "f": 4, "d": 8,
}


class Buffer:
    """The raw bytes of a flatbuffer file plus the path used in error messages."""

    def __init__(self, data: bytes, path: str):
        self.data = data
        self.path = path

    def fail(self, offset: int, what: str) -> ModelFormatError:
        return ModelFormatError(
            f"{self.path}: corrupted or truncated flatbuffer at byte offset {offset}: {what} "
            f"(file is {len(self.data)} bytes); re-export the model"
        )

    def read(self, fmt: str, offset: int):
        size = _SCALARS[fmt]
        if offset < 0 or offset + size > len(self.data):
            raise self.fail(offset, f"{size}-byte value lies outside the file")
        return struct.unpack_from("<" + fmt, self.data, offset)[0]

    def deref(self, offset: int) -> int:
        """Follow a uoffset_t stored at `offset`."""
        target = offset + self.read("I", offset)
        if target >= len(self.data):
            raise self.fail(offset, f"offset points to {target}, past the end")
        return target

    def root(self) -> Table:
        return Table(self, self.deref(0))


class Table:
    """A flatbuffer table; fields are addressed by their index in the schema."""

    __slots__ = ("_vtable", "_vtable_len", "buf", "pos")

    def __init__(self, buf: Buffer, pos: int):
        self.buf = buf
        self.pos = pos
        vtable = pos - buf.read("i", pos)
        vtable_len = buf.read("H", vtable)
        if vtable_len < 4 or vtable_len % 2 or vtable + vtable_len > len(buf.data):
            raise buf.fail(vtable, f"invalid vtable of length {vtable_len} for table at {pos}")
        self._vtable = vtable
        self._vtable_len = vtable_len

    def _field(self, index: int) -> int | None:
        entry = 4 + 2 * index
        if entry >= self._vtable_len:
            return None
        rel = self.buf.read("H", self._vtable + entry)
        return self.pos + rel if rel else None

    def has(self, index: int) -> bool:
        return self._field(index) is not None

    def scalar(self, index: int, fmt: str, default=0):
        pos = self._field(index)
        return default if pos is None else self.buf.read(fmt, pos)

    def table(self, index: int) -> Table | None:
        pos = self._field(index)
        return None if pos is None else Table(self.buf, self.buf.deref(pos))

    def _vector(self, index: int, elem_size: int) -> tuple[int, int] | None:
        pos = self._field(index)
        if pos is None:
            return None
        start = self.buf.deref(pos)
        length = self.buf.read("I", start)
        if start + 4 + length * elem_size > len(self.buf.data):
            raise self.buf.fail(start, f"vector of {length} elements runs past the end of the file")
        return start + 4, length

    def string(self, index: int) -> str | None:
        vec = self._vector(index, 1)
        if vec is None:
            return None
        start, length = vec
        return self.buf.data[start : start + length].decode("utf-8", errors="replace")

    def bytes_vector(self, index: int) -> memoryview | None:
        vec = self._vector(index, 1)
        if vec is None:
            return None
        start, length = vec
        return memoryview(self.buf.data)[start : start + length]

    def scalar_vector(self, index: int, fmt: str) -> np.ndarray | None:
        size = _SCALARS[fmt]
        vec = self._vector(index, size)
        if vec is None:
            return None
        start, length = vec
        dtype = np.dtype("<" + fmt) if fmt != "?" else np.dtype(bool)
        return np.frombuffer(self.buf.data, dtype=dtype, count=length, offset=start).copy()

    def tables(self, index: int) -> list[Table]:
        vec = self._vector(index, 4)
        if vec is None:
            return []
        start, length = vec
        return [Table(self.buf, self.buf.deref(start + 4 * i)) for i in range(length)]
