"""Typed values an op's C emitter hands to the generator, and their C spellings."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

# C element type for each numpy dtype edgeml emits.
C_TYPES: dict[np.dtype, str] = {
    np.dtype(np.int8): "int8_t",
    np.dtype(np.uint8): "uint8_t",
    np.dtype(np.int16): "int16_t",
    np.dtype(np.uint16): "uint16_t",
    np.dtype(np.int32): "int32_t",
    np.dtype(np.int64): "int64_t",
    np.dtype(np.float32): "float",
    np.dtype(np.bool_): "uint8_t",
}


@dataclass(frozen=True, eq=False)
class CArray:
    """A const array in flash; the params field holds a pointer to it."""

    values: np.ndarray
    dtype: np.dtype | type = np.int32

    @property
    def c_type(self) -> str:
        return C_TYPES[np.dtype(self.dtype)]

    def data(self) -> np.ndarray:
        return np.ascontiguousarray(np.asarray(self.values).astype(self.dtype).reshape(-1))


@dataclass(frozen=True)
class CFloat:
    """A float32 field, spelled exactly (hex float literal)."""

    value: float


CValue = int | bool | CFloat | CArray | tuple


@dataclass(frozen=True, eq=False)
class CCall:
    """One op as C: kernel `edg_<module>_<variant>` declared in firmware/kernels/edg_<module>.h, called
    with a `params_type` struct built from `fields` (designated initializers, so order is free).

    Inputs listed in omit_inputs are passed as NULL (their data travels in the params instead, e.g.
    a bias already widened), and their constant tensors are not emitted for this op."""

    module: str
    function: str
    params_type: str
    fields: dict[str, CValue] = field(default_factory=dict)
    omit_inputs: tuple[int, ...] = ()

    @property
    def header(self) -> str:
        return f"edg_{self.module}.h"

    @property
    def source(self) -> str:
        return f"edg_{self.module}.c"


def c_int(value: int) -> str:
    """An integer literal that is valid C for every int64 value."""
    value = int(value)
    if value == -(1 << 63):
        return "INT64_MIN"
    if value < -(1 << 31) or value > (1 << 31) - 1:
        return f"INT64_C({value})"
    if value == -(1 << 31):
        return "INT32_MIN"
    return str(value)


def c_float(value: float) -> str:
    f = float(np.float32(value))
    if math.isnan(f):
        return "NAN"
    if math.isinf(f):
        return "INFINITY" if f > 0 else "-INFINITY"
    return f"{f.hex()}f"


def c_array_body(values: np.ndarray, per_line: int = 24) -> str:
    """Comma-separated elements, per_line to a line."""
    flat = np.asarray(values).reshape(-1)
    if flat.dtype == np.float32:
        items = [c_float(v) for v in flat.tolist()]
    elif flat.dtype == np.int64:
        items = [c_int(v) for v in flat.tolist()]
    elif flat.dtype == np.int32:
        items = ["INT32_MIN" if v == -(1 << 31) else str(v) for v in flat.tolist()]
    else:
        items = [str(v) for v in flat.astype(np.int64).tolist()]
    if not items:
        return "0"  # C forbids empty initializers; the length is carried separately
    lines = [", ".join(items[i : i + per_line]) for i in range(0, len(items), per_line)]
    return ",\n    ".join(lines)


def c_scalar(value: CValue) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, CFloat):
        return c_float(value.value)
    if isinstance(value, int | np.integer):
        return c_int(int(value))
    if isinstance(value, tuple):
        return "{" + ", ".join(c_scalar(v) for v in value) + "}"
    raise TypeError(f"cannot spell {value!r} as a C scalar")
